import { sha256 } from '@noble/hashes/sha256';

/** node:crypto in the page: SHA-256 (the artifact header's checksum) and random bytes. */
export function createHash(algorithm: string) {
  if (algorithm !== 'sha256') throw new Error(`hash '${algorithm}' is not available in the browser page`);
  const h = sha256.create();
  const hash = {
    update(data: Uint8Array | string) {
      h.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
      return hash;
    },
    digest(encoding?: 'hex') {
      const out = h.digest();
      return encoding === 'hex' ? Array.from(out, (b) => b.toString(16).padStart(2, '0')).join('') : out;
    },
  };
  return hash;
}

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
