import { createRng, extractPlaneBits, packBits, resolvePlanes } from '@cbnn/core';
import { packPixelPlanes, perturbationMasks, perturbPixels, planeGroupLabel, planeSetKey, sensitivityPerturbations } from '@cbnn/sensitivity';

const rgb = ['red', 'green', 'blue'];

describe('perturbPixels', () => {
  const pixels = 4096;
  const images = createRng(7).fillBytes(new Uint8Array(pixels * 3));

  it('zero clears exactly the masked planes of the masked channel', () => {
    const masks = perturbationMasks([{ channel: 'green', bits: [0, 2] }], rgb);
    const out = perturbPixels(images, 3, masks, 'zero', createRng(1));
    for (let p = 0; p < pixels; p++) {
      expect(out[p * 3]).toBe(images[p * 3]);
      expect(out[p * 3 + 2]).toBe(images[p * 3 + 2]);
      expect(out[p * 3 + 1]).toBe(images[p * 3 + 1] & ~0b101);
    }
    expect(out).not.toBe(images);
  });

  it('randomize replaces the masked planes by fair coins, leaves the rest, and repeats from the seed', () => {
    const masks = perturbationMasks([{ channel: 'red', bits: [7] }], rgb);
    const a = perturbPixels(images, 3, masks, 'randomize', createRng(5));
    const b = perturbPixels(images, 3, masks, 'randomize', createRng(5));
    const c = perturbPixels(images, 3, masks, 'randomize', createRng(6));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    let ones = 0;
    let changed = 0;
    for (let p = 0; p < pixels; p++) {
      expect(a[p * 3] & 0x7f).toBe(images[p * 3] & 0x7f);
      expect(a[p * 3 + 1]).toBe(images[p * 3 + 1]);
      expect(a[p * 3 + 2]).toBe(images[p * 3 + 2]);
      ones += a[p * 3] >> 7;
      if ((a[p * 3] ^ images[p * 3]) & 0x80) changed++;
    }
    // Binomial(4096, 1/2): sd 32, so +-200 is > 6 sd.
    expect(Math.abs(ones - pixels / 2)).toBeLessThan(200);
    expect(Math.abs(changed - pixels / 2)).toBeLessThan(200);
  });

  it('rejects unknown channels and bits out of range', () => {
    expect(() => perturbationMasks([{ channel: 'alpha', bits: [0] }], rgb)).toThrow(/alpha/);
    expect(() => perturbationMasks([{ channel: 'red', bits: [8] }], rgb)).toThrow(/bit 8/);
  });
});

describe('packPixelPlanes', () => {
  it('equals core extractPlaneBits + packBits, for more than 32 features too', () => {
    const names = ['r', 'g', 'b', 'a', 'x'];
    const images = createRng(3).fillBytes(new Uint8Array(50 * names.length));
    for (const selection of [{ g: [7, 6, 0] }, Object.fromEntries(names.map((n) => [n, [7, 6, 5, 4, 3, 2, 1, 0]]))]) {
      const layout = resolvePlanes(selection, names);
      const f = layout.planes.length;
      const expected = packBits(extractPlaneBits(images, 50, names.length, layout), 50, f);
      expect(packPixelPlanes(images, 50, names.length, layout)).toEqual(expected);
    }
  });
});

describe('plane sets', () => {
  it('labels runs and gaps, and keys are canonical', () => {
    expect(planeGroupLabel({ channel: 'grey', bits: [0] })).toBe('grey:b0');
    expect(planeGroupLabel({ channel: 'grey', bits: [2, 0, 1] })).toBe('grey:b0-b2');
    expect(planeGroupLabel({ channel: 'grey', bits: [5, 3] })).toBe('grey:b3+b5');
    expect(
      planeSetKey(
        [
          { channel: 'blue', bits: [1] },
          { channel: 'red', bits: [3, 0] },
        ],
        rgb,
      ),
    ).toBe(
      planeSetKey(
        [
          { channel: 'red', bits: [0] },
          { channel: 'blue', bits: [1] },
          { channel: 'red', bits: [3] },
        ],
        rgb,
      ),
    );
  });

  it('lists single planes and cumulative LSB-up sets per channel, only planes the model reads', () => {
    const specs = sensitivityPerturbations(resolvePlanes({ red: [7, 6, 5], blue: [7, 3] }, rgb));
    expect(specs.filter((s) => s.scope === 'single').map((s) => planeGroupLabel(s.group))).toEqual(['red:b5', 'red:b6', 'red:b7', 'blue:b3', 'blue:b7']);
    expect(specs.filter((s) => s.scope === 'cumulative').map((s) => planeGroupLabel(s.group))).toEqual([
      'red:b5',
      'red:b5-b6',
      'red:b5-b7',
      'blue:b3',
      'blue:b3+b7',
    ]);
  });
});
