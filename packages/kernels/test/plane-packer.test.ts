import { allPlanes, createRng, extractPlaneBits, packBits, resolvePlanes } from '@cbnn/core';
import { createPlanePacker } from '../src';

// The toolkit's one plane packer (the engine's, also used by sensitivity analysis) against core's
// plain two-step version, its oracle: extract the planes as 0/1 bytes, then pack them.
describe('createPlanePacker', () => {
  it.each([
    ['grey, all 8 planes', ['grey'], undefined],
    ['grey, 3 planes out of order', ['grey'], { grey: [7, 2, 5] }],
    ['rgb, 24 planes', ['r', 'g', 'b'], undefined],
    ['5 channels, 40 planes (two words)', ['a', 'b', 'c', 'd', 'e'], undefined],
  ])('%s: same words as extractPlaneBits + packBits', (_name, channels, selection) => {
    const layout = resolvePlanes(selection ?? allPlanes(channels), channels);
    const pixelsPerImage = 6;
    const images = 5;
    const rng = createRng(3);
    const bytes = Uint8Array.from({ length: images * pixelsPerImage * channels.length }, () => rng.int(256));
    const features = layout.planes.length;
    const expected = packBits(extractPlaneBits(bytes, pixelsPerImage, channels.length, layout), images * pixelsPerImage, features);
    const packer = createPlanePacker(layout, pixelsPerImage, channels.length);
    const out = new Uint32Array(images * packer.wordsPerImage);
    packer.pack(bytes, 0, images, out);
    expect(Array.from(out)).toEqual(Array.from(expected));
    // A window of images lands at the start of the buffer.
    const two = new Uint32Array(2 * packer.wordsPerImage);
    packer.pack(bytes, 2, 2, two);
    expect(Array.from(two)).toEqual(Array.from(expected.subarray(2 * packer.wordsPerImage, 4 * packer.wordsPerImage)));
  });
});
