import { latestCompleteRun, listPipelineRuns } from '../src';
import { workspace } from './helpers';

describe('run lists', () => {
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
    const runs = listPipelineRuns(ws.store.root, ws.file, 'runs');
    expect(runs.map((r) => r.id)).toEqual([full.runId, partial.runId]);
    expect(runs[0]).toMatchObject({ complete: true, stages: { a: { status: 'ran', handler: 'test.write' }, b: { status: 'ran' } } });
    expect(runs[1].complete).toBe(false);
    expect(Object.keys(runs[1].stages)).toEqual(['a']);
    expect(runs[0].stages.b.output).toBe(full.outcomes.find((o) => o.id === 'b')!.output);
    expect(latestCompleteRun(runs)!.id).toBe(full.runId);
    // Another pipeline file in the same store is not this pipeline's run.
    expect(listPipelineRuns(ws.store.root, `${ws.dir}/other.yaml`, 'runs')).toEqual([]);
  });
});
