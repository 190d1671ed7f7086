import { latestCompleteRun, readRunRecords, runsOfPipeline } from '../src';
import { workspace } from './helpers';

describe('runs of a pipeline (run records)', () => {
  it('each run records the outputs it ran or restored; a --stage run is partial; the latest complete one is found', async () => {
    const ws = workspace(`
name: runs
stages:
  a:
    uses: test.write
    with: { text: A }
  b:
    uses: test.concat
    needs: { a: a }
`);
    const full = await ws.run();
    const partial = await ws.run({ stages: ['a'] });
    const runs = runsOfPipeline(readRunRecords(ws.store.root).runs, ws.file, 'runs');
    expect(runs.map((r) => r.id)).toEqual([full.runId, partial.runId]);
    expect(runs[0].complete).toBe(true);
    expect(runs[0].stages.map((s) => [s.id, s.status, s.handler])).toEqual([
      ['a', 'ran', 'test.write'],
      ['b', 'ran', 'test.concat'],
    ]);
    expect(runs[1].complete).toBe(false);
    expect(runs[1].stages.map((s) => s.id)).toEqual(['a']);
    expect(runs[0].stages.find((s) => s.id === 'b')!.output).toBe(full.outcomes.find((o) => o.id === 'b')!.output);
    expect(latestCompleteRun(runs)!.id).toBe(full.runId);
    // Another pipeline file in the same store is not this pipeline's run.
    expect(runsOfPipeline(readRunRecords(ws.store.root).runs, `${ws.dir}/other.yaml`, 'runs')).toEqual([]);
  });
});
