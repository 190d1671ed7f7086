import { NoWorkerNotice } from '../src/bullmq';

describe('NoWorkerNotice', () => {
  const said: string[] = [];
  const notice = (redis = 'redis://:pw@queue-host:6379', queue?: string) =>
    new NoWorkerNotice({ redis, queue, storeRoot: '/shared/store', afterMs: 30_000, say: (m) => said.push(m) });
  beforeEach(() => (said.length = 0));

  it('waits the interval, then repeats at it while the stage still waits; a taken job resets it', async () => {
    const n = notice();
    const job = { stage: 'data', queuedAt: 0 };
    const none = async () => 0;
    await n.check([job], 0, 29_000, none);
    expect(said).toHaveLength(0);
    await n.check([job], 0, 30_000, none);
    await n.check([job], 0, 45_000, none);
    expect(said).toHaveLength(1);
    await n.check([job], 0, 60_000, none);
    expect(said).toHaveLength(2);
    await n.check([], 0, 61_000, none);
    await n.check([{ stage: 'train', queuedAt: 70_000 }], 0, 100_000, none);
    expect(said).toHaveLength(3);
    expect(said[0]).toBe(
      "waiting for a worker: no worker has taken stage 'data' for 30 s (queue 'cbnn-stages' on Redis at redis://:***@queue-host:6379; no worker is connected to this queue). " +
        'Start one on a machine that shares the store (put the password back in the URL):\n  cbnn worker --redis redis://:***@queue-host:6379 --store /shared/store',
    );
  });

  it("stays quiet while a worker runs one of the run's stages (ordinary queueing) and counts the wait from then", async () => {
    const n = notice();
    const queued = [{ stage: 'search-2', queuedAt: 0 }];
    await n.check(queued, 1, 40_000, async () => 1);
    await n.check(queued, 1, 80_000, async () => 1);
    expect(said).toHaveLength(0);
    await n.check(queued, 0, 100_000, async () => 1);
    expect(said).toHaveLength(0);
    await n.check(queued, 0, 110_000, async () => 1);
    expect(said).toEqual([
      expect.stringContaining(
        "no worker has taken stage 'search-2' for 30 s (queue 'cbnn-stages' on Redis at redis://:***@queue-host:6379; 1 worker is connected but busy or unable to take it)",
      ),
    ]);
  });

  it('names the other queued stages, busy workers, a non-default queue, and copes with Redis not counting workers', async () => {
    const n = notice('redis://127.0.0.1:6421', 'team-a');
    await n.check(
      [
        { stage: 'b', queuedAt: 5 },
        { stage: 'a', queuedAt: 0 },
        { stage: 'c', queuedAt: 9 },
      ],
      0,
      31_000,
      async () => 2,
    );
    expect(said[0]).toMatch(
      /^waiting for a worker: no worker has taken stage 'a' \(and 2 more queued stages\) for 31 s \(queue 'team-a' on Redis at redis:\/\/127\.0\.0\.1:6421; 2 workers are connected but busy or unable to take it\)/,
    );
    expect(said[0]).toContain('cbnn worker --redis redis://127.0.0.1:6421 --store /shared/store --queue team-a');
    const m = notice('redis://127.0.0.1:6421');
    await m.check([{ stage: 'a', queuedAt: 0 }], 0, 31_000, () => Promise.reject(new Error('CLIENT LIST not allowed')));
    expect(said[1]).toContain("(queue 'cbnn-stages' on Redis at redis://127.0.0.1:6421). Start one");
  });
});
