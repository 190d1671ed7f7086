import { withinBudget } from './plan-policies';
import type { ModelFolderSummary } from './model-folder';
import type { SearchCandidate, SearchResult } from './search-format';

export const BASELINE_NAME = 'baseline';

export interface SelectionInput {
  budgetPoints: number;
  baseline: ModelFolderSummary;
  /** Candidate name (the matrix instance's folder name) -> its model. */
  candidates: ReadonlyArray<{ name: string; model: ModelFolderSummary }>;
  fullPrecision?: ModelFolderSummary;
}

/**
 * Pick the smallest candidate (bytes of model.cbnn on disk) whose VALIDATION accuracy is within
 * the budget of the baseline's validation accuracy. Test accuracy is carried along for the
 * report and never looked at here. Ties: the higher validation accuracy, then the name. When no
 * candidate qualifies, the baseline itself is chosen (it is within any budget by definition).
 */
export function selectCompactModel(input: SelectionInput): SearchResult {
  const baselineBytes = input.baseline.packedBytes!;
  const fpFloat32 = input.fullPrecision?.float32Bytes ?? input.baseline.float32Bytes;
  const toCandidate = (name: string, m: ModelFolderSummary): SearchCandidate => {
    const validationDropPoints = (input.baseline.validationAccuracy - m.validationAccuracy) * 100;
    return {
      name,
      planes: m.planes,
      planeCount: m.planeCount,
      width: m.width,
      binaryParams: m.binaryParams,
      floatParams: m.floatParams,
      packedBytes: m.packedBytes!,
      float32Bytes: m.float32Bytes,
      validationAccuracy: m.validationAccuracy,
      testAccuracy: m.testAccuracy,
      withinBudget: withinBudget(validationDropPoints, input.budgetPoints),
      validationDropPoints,
      compressionVsBaseline: baselineBytes / m.packedBytes!,
      compressionVsFullPrecision: fpFloat32 / m.packedBytes!,
    };
  };
  const baseline = toCandidate(BASELINE_NAME, input.baseline);
  const names = new Set<string>();
  const candidates = input.candidates.map(({ name, model }) => {
    if (name === BASELINE_NAME || names.has(name)) throw new Error(`candidate name '${name}' is used twice (or clashes with the baseline)`);
    names.add(name);
    return toCandidate(name, model);
  });
  const valid = candidates
    .filter((c) => c.withinBudget)
    .sort((a, b) => a.packedBytes - b.packedBytes || b.validationAccuracy - a.validationAccuracy || a.name.localeCompare(b.name));
  const chosen = valid[0] ?? baseline;
  return {
    format: 'cbnn.search',
    version: 1,
    budgetPoints: input.budgetPoints,
    selection: 'validation',
    baseline,
    fullPrecision: input.fullPrecision && {
      testAccuracy: input.fullPrecision.testAccuracy,
      validationAccuracy: input.fullPrecision.validationAccuracy,
      float32Bytes: input.fullPrecision.float32Bytes,
      onnxBytes: input.fullPrecision.onnxBytes,
    },
    candidates,
    chosen: chosen.name,
    compression: { vsBaselinePacked: baselineBytes / chosen.packedBytes, vsFullPrecisionFloat32: fpFloat32 / chosen.packedBytes },
  };
}

/** A Markdown table of the search, smallest first, for people (search.json is the record). */
export function searchSummaryMarkdown(result: SearchResult): string {
  const rows = [result.baseline, ...result.candidates].sort((a, b) => a.packedBytes - b.packedBytes);
  const pct = (x: number) => (x * 100).toFixed(2);
  const lines = [
    `# Compact-network search`,
    '',
    `Selection: smallest \`model.cbnn\` whose validation accuracy is at most ${result.budgetPoints} point(s) below the baseline's; test accuracy is reported, not used.`,
    '',
    `Chosen: **${result.chosen}** — ${result.compression.vsBaselinePacked.toFixed(2)}x smaller than the baseline BNN, ${result.compression.vsFullPrecisionFloat32.toFixed(2)}x smaller than the full-precision float32 weights${result.fullPrecision ? '' : ' (float32-equivalent of the baseline; no full-precision model given)'}.`,
    '',
    '| candidate | planes | width | binary params | float params | model.cbnn bytes | float32 bytes | x vs baseline | val acc % | test acc % | within budget |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (c) =>
        `| ${c.name === result.chosen ? `**${c.name}**` : c.name} | ${c.planeCount} | ${c.width} | ${c.binaryParams} | ${c.floatParams} | ${c.packedBytes} | ${c.float32Bytes} | ${(c.compressionVsBaseline ?? 0).toFixed(2)} | ${pct(c.validationAccuracy)} | ${pct(c.testAccuracy)} | ${c.withinBudget ? 'yes' : 'no'} |`,
    ),
  ];
  if (result.fullPrecision) {
    lines.push('', `Full precision: test accuracy ${pct(result.fullPrecision.testAccuracy)} %, ${result.fullPrecision.float32Bytes} float32 bytes${result.fullPrecision.onnxBytes ? `, model.onnx ${result.fullPrecision.onnxBytes} bytes` : ''}.`);
  }
  return lines.join('\n') + '\n';
}
