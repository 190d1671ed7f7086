import * as fs from 'node:fs';
import * as path from 'node:path';
import { withinBudget } from './plan-policies';
import { ENGINE_MODEL_FILE } from '@cbnn/train/model-info';
import type { ModelFolderSummary } from './model-folder';
import { deltaText, earlyStopSummary, type AblationRow, type SearchCandidate, type SearchResult, type SeedRun } from './search-format';
import { accuracyInterval95, differenceStandardError, spreadOf, type SeedSpread } from './seed-statistics';

export const BASELINE_NAME = 'baseline';

/** A trained model folder and the matrix instance (folder) name it came from. */
export interface NamedModel {
  name: string;
  model: ModelFolderSummary;
}

export interface SelectionInput {
  budgetPoints: number;
  /** The baseline BNN: one model per seed (all planes, the reference width). */
  baseline: ReadonlyArray<NamedModel>;
  /** Retrained candidates on pruned plane sets, every seed of every configuration. */
  candidates: ReadonlyArray<NamedModel>;
  /** All-plane controls at the candidates' widths (the ablation), every seed. */
  controls?: ReadonlyArray<NamedModel>;
  fullPrecision?: ModelFolderSummary;
}

export const SELECTION_RULE_TEXT =
  "A configuration is within budget when its mean validation accuracy over seeds is at most the budget below the baseline's mean, " +
  'counting one standard error of the difference against it: mean drop + SE <= budget, SE = sqrt(sd_c^2/n_c + sd_b^2/n_b) ' +
  '(0 with one seed each, so a one-seed search decides on the means alone). Among those within budget, the smallest model.cbnn wins ' +
  "(ties: higher mean validation accuracy, then name). The chosen folder is that configuration's best-validation seed. Test accuracy is never read.";

/**
 * Group instances into configurations (same planes, width and training settings; they differ
 * only in the seed), summarise each over its seeds, and pick the smallest configuration within
 * the validation budget. When none qualifies, the baseline itself is chosen.
 */
export function selectCompactModel(input: SelectionInput): SearchResult {
  if (input.baseline.length === 0) throw new Error('selection needs at least one baseline model');
  const repeated: string[] = [];
  const baselineGroup = summariseGroup(BASELINE_NAME, 'baseline', [...input.baseline], repeated);
  const fpFloat32 = input.fullPrecision?.float32Bytes ?? baselineGroup.models[0].model.float32Bytes;
  const baselineBytes = baselineGroup.models[0].model.packedBytes!;
  const finish = (g: Group): SearchCandidate => {
    const drop = (baselineGroup.validation.mean - g.validation.mean) * 100;
    const se = g.role === 'baseline' ? 0 : differenceStandardError(baselineGroup.validation, g.validation) * 100;
    const first = g.models[0].model;
    return {
      name: g.name,
      role: g.role,
      planes: first.planes,
      planeCount: first.planeCount,
      width: first.width,
      binaryParams: first.binaryParams,
      floatParams: first.floatParams,
      packedBytes: first.packedBytes!,
      float32Bytes: first.float32Bytes,
      firstLayerMacs: first.firstLayerMacs ?? null,
      inputBitsPerImage: first.inputBitsPerImage ?? null,
      validationAccuracy: g.validation.mean,
      testAccuracy: g.test.mean,
      validation: g.validation,
      test: g.test,
      testInterval95: accuracyInterval95(g.test, first.info.metrics.testRecords) ?? null,
      seeds: g.models.map(seedRun),
      validationDropPoints: drop,
      dropStandardErrorPoints: se,
      withinBudget: g.role === 'baseline' || withinBudget(drop + se, input.budgetPoints),
      compressionVsBaseline: baselineBytes / first.packedBytes!,
      compressionVsFullPrecision: fpFloat32 / first.packedBytes!,
    };
  };
  const baseline = finish(baselineGroup);
  const candidates = groupModels([...input.candidates], 'candidate', repeated).map(finish);
  const controls = groupModels([...(input.controls ?? [])], 'control', repeated).map(finish);
  const names = new Set<string>([BASELINE_NAME]);
  for (const c of [...candidates, ...controls]) {
    if (names.has(c.name)) throw new Error(`configuration name '${c.name}' is used twice (a candidate and a control with the same planes and width?)`);
    names.add(c.name);
  }
  const valid = candidates
    .filter((c) => c.withinBudget)
    .sort((a, b) => a.packedBytes - b.packedBytes || b.validationAccuracy - a.validationAccuracy || a.name.localeCompare(b.name));
  const chosen = valid[0] ?? baseline;
  const chosenInstance = bestSeed(chosen).instance;
  const control = chosen.role === 'baseline' ? undefined : controls.find((c) => c.width === chosen.width);
  const controlInstance = control ? (control.seeds.find((s) => s.seed === bestSeed(chosen).seed) ?? bestSeed(control)).instance : null;
  return {
    format: 'cbnn.search',
    version: 2,
    budgetPoints: input.budgetPoints,
    selection: 'validation',
    rule: { name: 'mean-drop-plus-se', text: SELECTION_RULE_TEXT },
    seeds: [...new Set([baseline, ...candidates, ...controls].flatMap((c) => c.seeds.map((s) => s.seed)).filter((s): s is number => s !== null))].sort(
      (a, b) => a - b,
    ),
    baseline,
    fullPrecision: input.fullPrecision && {
      testAccuracy: input.fullPrecision.testAccuracy,
      validationAccuracy: input.fullPrecision.validationAccuracy,
      float32Bytes: input.fullPrecision.float32Bytes,
      onnxBytes: input.fullPrecision.onnxBytes,
    },
    candidates,
    controls,
    chosen: chosen.name,
    chosenInstance,
    controlInstance,
    compression: { vsBaselinePacked: baselineBytes / chosen.packedBytes, vsFullPrecisionFloat32: fpFloat32 / chosen.packedBytes },
    ablation: ablationRows(candidates, controls),
    repeatedInstances: repeated.sort(),
    epochsSaved: [baseline, ...candidates, ...controls]
      .flatMap((c) => c.seeds)
      .reduce((n, s) => n + (s.stoppedEarly && s.epochs !== null && s.epochsPlanned !== null ? Math.max(0, s.epochsPlanned - s.epochs) : 0), 0),
    attribution: control ? attribution(baseline, control, chosen) : [],
  };
}

interface Group {
  name: string;
  role: SearchCandidate['role'];
  models: NamedModel[];
  validation: SeedSpread;
  test: SeedSpread;
}

function summariseGroup(name: string, role: Group['role'], all: NamedModel[], repeated: string[] = []): Group {
  const seeds = new Map<number, NamedModel>();
  const models: NamedModel[] = [];
  for (const m of [...all].sort((a, b) => a.name.localeCompare(b.name))) {
    const other = m.model.seed === undefined ? undefined : seeds.get(m.model.seed);
    if (other === undefined) {
      if (m.model.seed !== undefined) seeds.set(m.model.seed, m);
      models.push(m);
      continue;
    }
    // The same training twice (a plan alternative that does not exist falls back to the plan's
    // planes): one result, counted once. Two different models under one seed are an error.
    if (!sameModelFile(other.model, m.model)) {
      throw new Error(
        `'${other.name}' and '${m.name}' of configuration '${name}' were trained with the same seed ${m.model.seed} but differ: give each instance its own seed`,
      );
    }
    repeated.push(m.name);
  }
  const sorted = [...models].sort((a, b) => (a.model.seed ?? 0) - (b.model.seed ?? 0) || a.name.localeCompare(b.name));
  return {
    name,
    role,
    models: sorted,
    validation: spreadOf(sorted.map((m) => m.model.validationAccuracy)),
    test: spreadOf(sorted.map((m) => m.model.testAccuracy)),
  };
}

/** A readable configuration name: the kept planes and the width, e.g. `b7b6-w0.19`, `all-w0.5`. */
export function configurationName(m: ModelFolderSummary, role: Group['role']): string {
  const channels = Object.keys(m.planes);
  const planes =
    role === 'control' ? 'all' : channels.map((ch) => `${channels.length > 1 ? `${ch}.` : ''}${m.planes[ch].map((b) => `b${b}`).join('')}`).join('_');
  return `${planes}-w${m.width}`;
}

/** Configurations differ in planes, width or training settings; seeds of one configuration do not. */
function configurationKey(m: ModelFolderSummary): string {
  const { seed: _seed, ...training } = (m.info.training ?? {}) as Record<string, unknown>;
  return JSON.stringify([m.planes, m.width, m.info.kind, training]);
}

function sameModelFile(a: ModelFolderSummary, b: ModelFolderSummary): boolean {
  const file = (m: ModelFolderSummary) => path.join(m.dir, ENGINE_MODEL_FILE);
  return fs.existsSync(file(a)) && fs.existsSync(file(b)) && fs.readFileSync(file(a)).equals(fs.readFileSync(file(b)));
}

function groupModels(models: NamedModel[], role: 'candidate' | 'control', repeated: string[]): Group[] {
  const byKey = new Map<string, NamedModel[]>();
  for (const m of models) {
    const key = configurationKey(m.model);
    byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  const groups = [...byKey.values()].map((ms) => summariseGroup(configurationName(ms[0].model, role), role, ms, repeated));
  const seen = new Map<string, number>();
  // Two configurations with the same planes and width but other training settings: number them.
  for (const g of groups) {
    const k = (seen.get(g.name) ?? 0) + 1;
    seen.set(g.name, k);
    if (k > 1) g.name = `${g.name}-${k}`;
  }
  return groups.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

function seedRun(m: NamedModel): SeedRun {
  const metrics = m.model.info.metrics as Record<string, unknown>;
  return {
    instance: m.name,
    seed: m.model.seed ?? null,
    validationAccuracy: m.model.validationAccuracy,
    testAccuracy: m.model.testAccuracy,
    bestEpoch: typeof metrics.bestEpoch === 'number' ? metrics.bestEpoch : null,
    epochs: typeof metrics.epochs === 'number' ? metrics.epochs : null,
    epochsPlanned: typeof m.model.info.training?.epochs === 'number' ? m.model.info.training.epochs : null,
    stoppedEarly: metrics.stoppedEarly === true,
    stopReason: typeof metrics.stopReason === 'string' ? metrics.stopReason : null,
  };
}

function bestSeed(c: SearchCandidate): SeedRun {
  return [...c.seeds].sort((a, b) => b.validationAccuracy - a.validationAccuracy || a.instance.localeCompare(b.instance))[0];
}

function ablationRows(candidates: SearchCandidate[], controls: SearchCandidate[]): AblationRow[] {
  const rows: AblationRow[] = [];
  for (const pruned of candidates) {
    const control = controls.find((c) => c.width === pruned.width);
    if (!control) continue;
    rows.push({
      width: pruned.width,
      pruned: pruned.name,
      control: control.name,
      prunedPlaneCount: pruned.planeCount,
      controlPlaneCount: control.planeCount,
      validationDeltaPoints: delta(pruned.validation, control.validation),
      testDeltaPoints: delta(pruned.test, control.test),
      prunedBytes: pruned.packedBytes,
      controlBytes: control.packedBytes,
      prunedFirstLayerMacs: pruned.firstLayerMacs,
      controlFirstLayerMacs: control.firstLayerMacs,
      prunedInputBits: pruned.inputBitsPerImage,
      controlInputBits: control.inputBitsPerImage,
      seeds: Math.min(pruned.validation.n, control.validation.n),
    });
  }
  return rows.sort((a, b) => b.width - a.width || a.pruned.localeCompare(b.pruned));
}

/** Difference of means in points, with the standard deviation of the difference (independent seeds). */
function delta(a: SeedSpread, b: SeedSpread): { mean: number; std: number } {
  return { mean: (a.mean - b.mean) * 100, std: Math.sqrt(a.std ** 2 + b.std ** 2) * 100 };
}

function attribution(baseline: SearchCandidate, control: SearchCandidate, chosen: SearchCandidate): SearchResult['attribution'] {
  const rows: SearchResult['attribution'] = [
    {
      quantity: 'validation accuracy (points)',
      baseline: baseline.validationAccuracy * 100,
      control: control.validationAccuracy * 100,
      chosen: chosen.validationAccuracy * 100,
    },
    { quantity: 'test accuracy (points)', baseline: baseline.testAccuracy * 100, control: control.testAccuracy * 100, chosen: chosen.testAccuracy * 100 },
    { quantity: 'packed bytes', baseline: baseline.packedBytes, control: control.packedBytes, chosen: chosen.packedBytes },
  ];
  if (baseline.firstLayerMacs !== null && control.firstLayerMacs !== null && chosen.firstLayerMacs !== null) {
    rows.push({ quantity: 'first-layer MACs', baseline: baseline.firstLayerMacs, control: control.firstLayerMacs, chosen: chosen.firstLayerMacs });
  }
  if (baseline.inputBitsPerImage !== null && control.inputBitsPerImage !== null && chosen.inputBitsPerImage !== null) {
    rows.push({ quantity: 'input bits per image', baseline: baseline.inputBitsPerImage, control: control.inputBitsPerImage, chosen: chosen.inputBitsPerImage });
  }
  return rows;
}

/** A Markdown summary of the search, smallest first, for people (search.json is the record). */
export function searchSummaryMarkdown(result: SearchResult): string {
  const rows = [result.baseline, ...result.candidates, ...result.controls].sort((a, b) => a.packedBytes - b.packedBytes);
  const pct = (x: number) => (x * 100).toFixed(2);
  const pm = (s: { mean: number; std: number; n: number }) => (s.n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean));
  const oneSeed = rows.every((r) => r.seeds.length === 1);
  const lines = [
    `# Compact-network search`,
    '',
    `Decided on the **${result.selection}** split; budget ${result.budgetPoints} point(s). ${result.rule.text}`,
    '',
    oneSeed
      ? '**One seed per configuration**: the accuracies below are single runs; their spread over seeds is not measured.'
      : `Seeds: ${result.seeds.join(', ')}; accuracies are mean ± sample standard deviation over seeds.`,
    '',
    `Chosen: **${result.chosen}** (instance \`${result.chosenInstance}\`) — ${result.compression.vsBaselinePacked.toFixed(2)}x smaller than the baseline BNN (w=${result.baseline.width}, all ${result.baseline.planeCount} planes), ${result.compression.vsFullPrecisionFloat32.toFixed(2)}x smaller than the full-precision float32 weights${result.fullPrecision ? '' : ' (float32-equivalent of the baseline; no full-precision model given)'}.`,
    '',
    '| configuration | role | planes | width | seeds | model.cbnn bytes | x vs baseline | val acc % | val drop (pts) ± SE | test acc % (reported only) | within budget |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (c) =>
        `| ${c.name === result.chosen ? `**${c.name}**` : c.name} | ${c.role} | ${c.planeCount} | ${c.width} | ${c.seeds.length} | ${c.packedBytes} | ${c.compressionVsBaseline.toFixed(2)} | ${pm(c.validation)} | ${c.role === 'baseline' ? '—' : `${c.validationDropPoints.toFixed(2)} ± ${c.dropStandardErrorPoints.toFixed(2)}`} | ${pm(c.test)} | ${c.role === 'control' ? '(control)' : c.withinBudget ? 'yes' : 'no'} |`,
    ),
  ];
  if (result.repeatedInstances.length) {
    lines.push(
      '',
      `Repeated trainings, counted once (same configuration, seed and model bytes as another instance, e.g. a plan alternative that does not exist): ${result.repeatedInstances.join(', ')}.`,
    );
  }
  lines.push('', earlyStopSummary(result));
  if (result.ablation.length) {
    lines.push(
      '',
      '## Ablation: kept planes vs all planes at the same width',
      '',
      '| width | kept planes | all planes | Δ val (pts) | Δ test (pts) | bytes kept / all | first-layer MACs kept / all | input bits kept / all |',
      '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |',
      ...result.ablation.map(
        (a) =>
          `| ${a.width} | ${a.pruned} (${a.prunedPlaneCount}) | ${a.control} (${a.controlPlaneCount}) | ${deltaText(a.validationDeltaPoints, a.seeds)} | ${deltaText(a.testDeltaPoints, a.seeds)} | ${a.prunedBytes} / ${a.controlBytes} | ${a.prunedFirstLayerMacs ?? '—'} / ${a.controlFirstLayerMacs ?? '—'} | ${a.prunedInputBits ?? '—'} / ${a.controlInputBits ?? '—'} |`,
      ),
    );
  }
  if (result.attribution.length) {
    lines.push(
      '',
      `## Where the chosen model's savings come from (baseline -> all planes at w=${result.candidates.find((c) => c.name === result.chosen)?.width ?? '?'} -> chosen)`,
      '',
      '| quantity | baseline | all planes, chosen width | chosen | from the width | from the planes |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...result.attribution.map((r) => {
        const ratio = r.quantity.includes('accuracy');
        const part = (a: number, b: number) => (ratio ? signed(b - a) : `${(a / b).toFixed(2)}x`);
        return `| ${r.quantity} | ${fmt(r.baseline)} | ${fmt(r.control)} | ${fmt(r.chosen)} | ${part(r.baseline, r.control)} | ${part(r.control, r.chosen)} |`;
      }),
    );
  }
  if (result.fullPrecision) {
    lines.push(
      '',
      `Full precision: test accuracy ${pct(result.fullPrecision.testAccuracy)} %, ${result.fullPrecision.float32Bytes} float32 bytes${result.fullPrecision.onnxBytes ? `, model.onnx ${result.fullPrecision.onnxBytes} bytes` : ''}.`,
    );
  }
  return lines.join('\n') + '\n';
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}
