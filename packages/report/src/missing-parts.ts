import type { ReportInput } from './report-input';

export interface MissingPart {
  part: string;
  /** What the reader does not see because of it. */
  effect: string;
}

/** The parts of a full report that this input lacks, said plainly at the top of the report. */
export function missingParts(input: ReportInput): MissingPart[] {
  const out: MissingPart[] = [];
  if (!input.sensitivity) out.push({ part: 'sensitivity analysis (sensitivity.json)', effect: 'no per-plane or cumulative accuracy charts' });
  if (!input.plan) out.push({ part: 'pruning plan (plan.json)', effect: 'no kept/dropped planes or plan steps' });
  if (!input.search)
    out.push({ part: 'compact model search (search.json)', effect: 'no search chart; compact accuracy and size come from model folders if given' });
  if (!input.bench) out.push({ part: 'runtime benchmark (bench.json)', effect: 'no latency, speedup ratios or runtime chart' });
  if (!input.search && !input.baseline) out.push({ part: 'baseline BNN (model-info.json of model.bnn)', effect: 'no baseline accuracy or size' });
  if (!input.search?.fullPrecision && !input.fp)
    out.push({ part: 'full-precision model (model-info.json of model.fp)', effect: 'no full-precision accuracy or size' });
  if (!input.dataset) out.push({ part: 'dataset (dataset.json)', effect: 'no dataset summary' });
  if (!input.dag) out.push({ part: 'pipeline DAG', effect: 'no pipeline diagram' });
  if (!input.provenance) out.push({ part: 'provenance (git commit, package versions)', effect: 'only what the result files record is shown' });
  return out;
}
