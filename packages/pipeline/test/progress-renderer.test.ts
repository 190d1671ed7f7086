import { ProgressRenderer, summaryTable, threadTimeline, type RunSummary } from '../src';

/** A non-TTY stream that keeps what is written. */
function sink(): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY: false, write: (c: string) => (chunks.push(c), true), text: () => chunks.join('') } as never;
}

describe('ProgressRenderer', () => {
  afterEach(() => jest.useRealTimers());

  it('estimates the ETA of the current phase when a stage restarts its counter (e.g. each epoch)', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const out = sink();
    const r = new ProgressRenderer(out, false);
    r.stageStarted('train', { attempt: 1, attempts: 1, executor: 'local' });
    jest.advanceTimersByTime(60_000);
    r.stageProgress('train', { current: 100, total: 100, unit: 'batch', message: 'epoch 1/5' });
    jest.advanceTimersByTime(6_000);
    r.stageProgress('train', { current: 1, total: 100, unit: 'batch', message: 'epoch 2/5' });
    jest.advanceTimersByTime(6_000);
    r.stageProgress('train', { current: 10, total: 100, unit: 'batch', message: 'epoch 2/5' });
    const last = out.text().trim().split('\n').pop()!;
    // 10 batches in 6 s since the counter restarted: 90 more take 54 s (not minutes, as the
    // whole stage's elapsed time would suggest).
    expect(last).toContain('ETA 54.0s');
    expect(last).toContain('72.0s');
  });

  it("shows each executed stage's wait for a slot and its threads over time", () => {
    expect(threadTimeline([{ atMs: 0, threads: 1 }])).toBe('1');
    expect(
      threadTimeline([
        { atMs: 0, threads: 1 },
        { atMs: 5100, threads: 2 },
        { atMs: 312_000, threads: 1 },
      ]),
    ).toBe('1 -> 2 at 5.1s -> 1 at 5m12s');
    const summary = {
      outcomes: [
        {
          id: 'long',
          stage: 'long',
          status: 'ran',
          durationMs: 9000,
          attempts: 1,
          waitMs: 0,
          threads: [
            { atMs: 0, threads: 1 },
            { atMs: 5100, threads: 2 },
          ],
        },
        { id: 'old', stage: 'old', status: 'cached', durationMs: 3, attempts: 0 },
      ],
      executed: 1,
      cached: 1,
      failed: 0,
      skipped: 0,
      durationMs: 9500,
      cancelled: false,
    } as unknown as RunSummary;
    const lines = summaryTable(summary).split('\n');
    expect(lines[0]).toMatch(/^stage\s+result\s+duration\s+waited\s+threads$/);
    expect(lines[2]).toMatch(/^long\s+ran\s+9\.0s\s+0ms\s+1 -> 2 at 5\.1s$/);
    expect(lines[3]).toMatch(/^old\s+cached\s+-\s+-\s+-$/);
  });
});
