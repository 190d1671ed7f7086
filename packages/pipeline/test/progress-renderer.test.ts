import { ProgressRenderer } from '../src';

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
});
