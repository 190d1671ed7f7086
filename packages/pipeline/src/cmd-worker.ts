// The worker for pipelines made only of `cmd:` stages (no handlers to load), and for cmd stages
// in general: forking it is cheap because it loads no stage handler packages.
import { runStageWorker } from './stage-worker-runtime';

runStageWorker([]);
