import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ObjectStore } from '../src/object-store';
import { StoreViews } from '../src/store-views';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-views-'));

describe('StoreViews', () => {
  it('materialises a manifest as hard links, points out/<name> at it, and rebuilds a tampered view', () => {
    const objects = new ObjectStore(tmp());
    const views = new StoreViews(objects);
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'v.txt'), 'value');
    const m = objects.commitFolder(dir);
    const view = views.view(m);
    expect(fs.statSync(path.join(view, 'v.txt')).ino).toBe(fs.statSync(objects.objectPath(objects.readManifest(m).files['v.txt'].hash)).ino);
    views.expose('stage', m);
    expect(views.exposed('stage')).toBe(m);
    expect(fs.readFileSync(path.join(views.outDir, 'stage', 'v.txt'), 'utf8')).toBe('value');
    // A view whose file is no longer the object's (replaced) is rebuilt.
    fs.chmodSync(view, 0o755);
    fs.rmSync(path.join(view, 'v.txt'));
    fs.writeFileSync(path.join(view, 'v.txt'), 'other');
    expect(fs.readFileSync(path.join(views.view(m), 'v.txt'), 'utf8')).toBe('value');
    expect(views.listViews()).toEqual([m]);
  });

  it('keeps a registry of lock files without duplicates', () => {
    const views = new StoreViews(new ObjectStore(tmp()));
    views.registerLockFile('/p/a.lock');
    views.registerLockFile('/p/a.lock');
    views.registerLockFile('/p/b.lock');
    expect(views.lockFiles()).toEqual(['/p/a.lock', '/p/b.lock']);
  });
});
