import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunCache } from '../src/run-cache';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-runs-'));
const HASH = 'a'.repeat(64);

describe('RunCache', () => {
  it('maps a key to its record; a record under another key or a damaged one reads as absent', () => {
    const root = tmp();
    const cache = new RunCache(root);
    const rec = { key: HASH, stage: 's', output: 'b'.repeat(64), durationMs: 5, createdAt: '2026-12-01T00:00:00Z' };
    cache.put(rec);
    expect(cache.get(HASH)).toEqual(rec);
    expect(cache.list()).toEqual([rec]);
    const file = path.join(root, 'runs', 'aa', `${HASH}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...rec, key: 'c'.repeat(64) }));
    expect(cache.get(HASH)).toBeUndefined();
    fs.writeFileSync(file, '{ not json');
    expect(cache.get(HASH)).toBeUndefined();
    cache.delete(HASH);
    expect(fs.existsSync(file)).toBe(false);
  });
});
