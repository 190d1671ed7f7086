// Child-process entry of the local executor: runs one stage, loading only its handler's package.
import { runStageWorker } from '@cbnn/pipeline';
import { loadHandler } from './handlers';

runStageWorker(loadHandler);
