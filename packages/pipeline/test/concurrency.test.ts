import { workspace } from './helpers';

describe('local executor concurrency', () => {
  it('--jobs 2 overlaps two independent stages; --jobs 1 does not', async () => {
    const yaml = (tag: string) => `
name: overlap
stages:
  one: { uses: test.write, with: { text: "1${tag}", sleepMs: 600 } }
  two: { uses: test.write, with: { text: "2${tag}", sleepMs: 600 } }
`;
    const span = (ws: ReturnType<typeof workspace>, stage: string) => {
      const ev = ws.eventsOf().filter((e) => e.stage === stage);
      return [ev.find((e) => e.event === 'start')!.t, ev.find((e) => e.event === 'end')!.t];
    };
    const ws = workspace(yaml('a'));
    await ws.run({ jobs: 2 });
    const [s1, e1] = span(ws, 'one');
    const [s2, e2] = span(ws, 'two');
    expect(Math.max(s1, s2)).toBeLessThan(Math.min(e1, e2));

    ws.write(yaml('b'));
    await ws.run({ jobs: 1 });
    const [t1, f1] = span(ws, 'one');
    const [t2, f2] = span(ws, 'two');
    expect(Math.max(t1, t2)).toBeGreaterThanOrEqual(Math.min(f1, f2));
  });
});
