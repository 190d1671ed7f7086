/**
 * What a stage's output folder holds. The runner checks that a stage's `needs` are satisfied by
 * upstream stages of the kind the handler declares.
 */
export const ARTIFACT_KINDS = [
  'dataset', // bitslice.dataset: dataset.json + images.bin + labels.bin (see dataset-format.ts)
  'model.bnn', // train.bnn: engine model (model.cbnn), tfjs model, summary, metrics
  'model.fp', // train.fp: tfjs model, ONNX export, summary, metrics
  'sensitivity', // sensitivity.planes: sensitivity.json / .csv
  'plan', // pruning.plan: plan.json
  'search', // pruning.search: candidates.json, chosen model
  'bench', // bench.runtime: bench.json, bench.md
  'report', // report.html: report.html, summary.md
  'files', // anything else: the declared outs of a cmd: stage
] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export function isArtifactKind(value: string): value is ArtifactKind {
  return (ARTIFACT_KINDS as readonly string[]).includes(value);
}
