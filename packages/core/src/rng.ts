/**
 * Seeded random numbers: xoshiro128** seeded through splitmix32. Deterministic across platforms
 * (pure 32-bit integer math), fast, and forkable so that independent consumers (shuffling,
 * perturbation repeats, weight init) draw from independent streams derived from one seed.
 */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** Uniform float in [0, 1). */
  nextFloat(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** In-place Fisher-Yates shuffle; returns the array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
  /** Fill a byte array with uniform random bytes. */
  fillBytes(out: Uint8Array): Uint8Array;
  /** An independent generator derived from this one's seed and a label. */
  fork(label: string | number): Rng;
  readonly seed: number;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a of a string, for deriving fork seeds from labels. */
export function hashString32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function createRng(seed: number): Rng {
  const init = splitmix32(seed >>> 0);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  if ((a | b | c | d) === 0) a = 1;
  let spareNormal: number | undefined;

  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d >>> 0, 11);
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    return result;
  };
  const nextFloat = (): number => nextU32() / 4294967296;
  const rng: Rng = {
    seed: seed >>> 0,
    nextU32,
    nextFloat,
    int(n: number): number {
      if (!(n > 0)) throw new RangeError(`rng.int needs n > 0, got ${n}`);
      // Rejection sampling keeps the distribution exactly uniform.
      const limit = 4294967296 - (4294967296 % n);
      let x = nextU32();
      while (x >= limit) x = nextU32();
      return x % n;
    },
    normal(): number {
      if (spareNormal !== undefined) {
        const s = spareNormal;
        spareNormal = undefined;
        return s;
      }
      let u = 0;
      while (u === 0) u = nextFloat();
      const v = nextFloat();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    shuffle(array) {
      for (let i = array.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const tmp = array[i];
        array[i] = array[j];
        array[j] = tmp;
      }
      return array;
    },
    fillBytes(out: Uint8Array): Uint8Array {
      let i = 0;
      for (; i + 4 <= out.length; i += 4) {
        const x = nextU32();
        out[i] = x & 0xff;
        out[i + 1] = (x >>> 8) & 0xff;
        out[i + 2] = (x >>> 16) & 0xff;
        out[i + 3] = x >>> 24;
      }
      if (i < out.length) {
        let x = nextU32();
        for (; i < out.length; i++, x >>>= 8) out[i] = x & 0xff;
      }
      return out;
    },
    fork(label: string | number): Rng {
      const l = typeof label === 'number' ? label >>> 0 : hashString32(label);
      return createRng((Math.imul(seed >>> 0, 0x9e3779b1) ^ l ^ 0x5bd1e995) >>> 0);
    },
  };
  return rng;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
