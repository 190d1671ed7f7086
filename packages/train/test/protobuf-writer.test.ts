import { encodeVarint } from '../src/protobuf-writer';

describe('encodeVarint', () => {
  it('encodes small, multi-byte and negative values as protobuf does', () => {
    expect([...encodeVarint(1n)]).toEqual([1]);
    expect([...encodeVarint(300n)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(-1n)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });
});
