// Child-process entry of the local executor: runs one stage with the CLI's handlers.
import { runStageWorker } from '@cbnn/pipeline';
import { allHandlers } from './handlers';

runStageWorker(allHandlers());
