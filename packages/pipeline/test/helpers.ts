import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStageRegistry, type StageHandler, type StageRegistry } from '@cbnn/core';
import { ArtifactStore, LocalExecutor, loadPipeline, runPipeline, type RunOptions, type RunSummary } from '../src';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const testHandlers: StageHandler[] = require('./fixtures/handlers.js').handlers;
export const registry = createStageRegistry(testHandlers);
export const workerScript = path.join(__dirname, 'fixtures', 'worker.js');
export const runnerScript = path.join(__dirname, 'fixtures', 'run-pipeline.js');

export interface Workspace {
  dir: string;
  file: string;
  store: ArtifactStore;
  events: string;
  write(yaml: string): void;
  run(options?: Partial<RunOptions> & { set?: string[]; registry?: StageRegistry }): Promise<RunSummary>;
  executed(): string[];
  eventsOf(): Array<{ stage: string; event: string; t: number }>;
}

export function workspace(yaml?: string): Workspace {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-pipe-'));
  const file = path.join(dir, 'p.yaml');
  const events = path.join(dir, 'events.jsonl');
  process.env.CBNN_TEST_EVENTS = events;
  const store = new ArtifactStore(path.join(dir, '.cbnn'));
  const ws: Workspace = {
    dir,
    file,
    store,
    events,
    write: (text) => fs.writeFileSync(file, text),
    async run(options = {}) {
      fs.rmSync(events, { force: true });
      const pipeline = loadPipeline(file, { registry: options.registry ?? registry, set: options.set });
      const executor = new LocalExecutor({ workerScript, cmdWorkerScript: path.join(__dirname, '..', 'dist', 'cmd-worker.js') });
      try {
        return await runPipeline(pipeline, { store: new ArtifactStore(store.root), executor, jobs: 2, ...options });
      } finally {
        await executor.close();
      }
    },
    eventsOf: () =>
      fs.existsSync(events)
        ? fs
            .readFileSync(events, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [],
    executed: () =>
      ws
        .eventsOf()
        .filter((e) => e.event === 'start')
        .map((e) => e.stage)
        .sort(),
  };
  if (yaml) ws.write(yaml);
  return ws;
}

export function readOut(ws: Workspace, stage: string, file = 'value.txt'): string {
  return fs.readFileSync(path.join(ws.store.root, 'out', stage, file), 'utf8');
}

/**
 * Two writers and a join: `left` writes the `text` param (and a metrics file), `right` a constant,
 * `join` concatenates them. `params` adds top-level params (YAML lines), `extra` more stages.
 */
export function leftRightJoin(name: string, text: string, options: { params?: string; extra?: string } = {}): string {
  return `
name: ${name}
params:
  text: ${text}
${options.params ?? ''}stages:
  left:
    uses: test.write
    with: { text: "\${params.text}" }
    metrics: [metrics.json]
  right:
    uses: test.write
    with: { text: R }
  join:
    uses: test.concat
    needs: { a: left, b: right }
${options.extra ?? ''}`;
}
