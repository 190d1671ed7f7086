import { planPipeline } from './planner';

export type { StageAction, StagePlan } from './planner';
export { describeChanges } from './planner';

/** What `run` would do for each stage instance and exactly why: the planner, read-only. */
export const planStatus = planPipeline;
