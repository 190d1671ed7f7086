import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { ObjectStore } from '../src/object-store';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-objects-'));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('ObjectStore', () => {
  it('names objects by their SHA-256, read-only, idempotently; commits a folder as a manifest', () => {
    const store = new ObjectStore(tmp());
    const h = store.putBytes('hello');
    expect(h).toBe(sha('hello'));
    expect(store.putBytes('hello')).toBe(h);
    expect(fs.statSync(store.objectPath(h)).mode & 0o222).toBe(0);
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'A');
    fs.writeFileSync(path.join(dir, 'sub', 'b.txt'), 'BB');
    const m = store.commitFolder(dir);
    expect(store.readManifest(m).files).toEqual({ 'a.txt': { hash: sha('A'), size: 1 }, 'sub/b.txt': { hash: sha('BB'), size: 2 } });
    expect(store.checkOutput(m)).toEqual([]);
    expect(store.listObjects().sort()).toEqual([h, m, sha('A'), sha('BB')].sort());
  });

  it('finds a damaged or missing object, quarantines it, and verifyObjects re-hashes everything', () => {
    const root = tmp();
    const store = new ObjectStore(root);
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'A');
    fs.writeFileSync(path.join(dir, 'b.txt'), 'B');
    const m = store.commitFolder(dir);
    const a = store.objectPath(sha('A'));
    fs.chmodSync(a, 0o644);
    fs.writeFileSync(a, 'X');
    fs.rmSync(store.objectPath(sha('B')));
    const problems = store.checkOutput(m).map((c) => [c.hash, c.problem]);
    expect(problems).toEqual([
      [sha('A'), 'content does not match its hash'],
      [sha('B'), 'missing'],
    ]);
    expect(store.verifyObjects().corrupt.map((c) => c.hash)).toEqual([sha('A')]);
    store.quarantine(sha('A'));
    expect(store.hasObject(sha('A'))).toBe(false);
    expect(fs.readdirSync(path.join(root, 'corrupt'))[0]).toMatch(new RegExp(`^${sha('A')}\\.`));
  });

  it('writes temp files in its own scratch folder (a queue worker keeps out of tmp/)', () => {
    const root = tmp();
    const scratch = path.join(root, 'workers', 'w1');
    const store = new ObjectStore(root, scratch);
    store.putBytes('x');
    expect(fs.existsSync(scratch)).toBe(true);
    expect(fs.existsSync(path.join(root, 'tmp'))).toBe(false);
  });
});
