import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CbnnError, ExitCode } from '@cbnn/core';

/**
 * One writer per store: `<root>/run.lock` holds the pid and host of the run that owns the store.
 * A second run waits (printing who holds it) until the owner ends, or refuses at once with
 * `wait: false`. A lock whose pid no longer exists on this host is stale (the owner was killed,
 * even by SIGKILL) and is taken over. Readers (status, dag, verify) take no lock.
 */
export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export class StoreBusyError extends CbnnError {
  constructor(message: string, hint?: string) {
    super('store-busy', message, { exitCode: ExitCode.busy, hint });
  }
}

export interface AcquireOptions {
  wait?: boolean;
  /** Give up after this long (default: wait forever). */
  timeoutMs?: number;
  pollMs?: number;
  onWait?: (owner: LockOwner) => void;
  signal?: AbortSignal;
}

export class WorkspaceLock {
  private constructor(
    readonly file: string,
    private released = false,
  ) {}

  static async acquire(storeRoot: string, options: AcquireOptions = {}): Promise<WorkspaceLock> {
    const file = path.join(storeRoot, 'run.lock');
    fs.mkdirSync(storeRoot, { recursive: true });
    const me: LockOwner = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
    const started = Date.now();
    let announced = false;
    for (;;) {
      // Written whole to a temp file, then hard-linked into place: the lock never exists empty.
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(me));
      try {
        fs.linkSync(tmp, file);
        return new WorkspaceLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        fs.rmSync(tmp, { force: true });
      }
      const owner = readOwner(file);
      if (!owner || isStale(owner)) {
        breakStaleLock(file, owner);
        continue;
      }
      if (options.wait === false) {
        throw new StoreBusyError(
          `the store ${storeRoot} is in use by another run (pid ${owner.pid} on ${owner.host}, since ${owner.startedAt})`,
          'wait for it to finish, or use another --store',
        );
      }
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
        throw new StoreBusyError(`gave up waiting for the store ${storeRoot}, held by pid ${owner.pid} on ${owner.host}`);
      }
      if (options.signal?.aborted) throw new StoreBusyError('cancelled while waiting for the store lock');
      if (!announced) {
        options.onWait?.(owner);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const owner = readOwner(this.file);
    if (owner && owner.pid === process.pid) fs.rmSync(this.file, { force: true });
  }
}

export function readOwner(file: string): LockOwner | undefined {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return typeof raw.pid === 'number' ? raw : undefined;
  } catch {
    return undefined;
  }
}

function isStale(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return false; // cannot tell for another machine
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Rename the stale lock aside (only one breaker wins the rename). If what we renamed turns out to
 * be a live lock someone just took, put it back.
 */
function breakStaleLock(file: string, seen: LockOwner | undefined): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else broke it
  }
  const got = readOwner(aside);
  if (got && seen && got.pid !== seen.pid && !isStale(got)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // a third run took the lock meanwhile; the live owner we displaced will notice on release
    }
  }
  fs.rmSync(aside, { force: true });
}
