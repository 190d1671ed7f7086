import type { PlanRunner } from './engine-runners';
import type { EngineModel } from './model-format';
import { summary } from './summary';

/** Time of one runner call (one or more fused layers) on a batch, and of its separable phases. */
export interface StepProfile {
  /** e.g. 'conv 12->12 + maxpool2' */
  label: string;
  /** Indices into model.layers computed by this call (empty for a repacking step). */
  layers: number[];
  variant: string;
  /** Binary MACs of the call's layers per image (3x3 taps at borders included, as in summary()). */
  binaryMacsPerImage: number;
  /** Median seconds of one call on `batch` images, with the min and max of the timed runs. */
  seconds: { median: number; min: number; max: number };
  /** Median process CPU seconds of one call: less disturbed than wall time by other load on a shared machine. */
  cpuSeconds: number;
  /** binaryMacsPerImage * batch / median seconds / 1e9 (0 for steps without binary MACs). */
  gBinaryMacsPerSecond: number;
  /** Median seconds of each phase that runs alone; `rest` = the call's median minus them. */
  phases: Record<string, number>;
}

export interface EngineProfile {
  batch: number;
  steps: StepProfile[];
  /** Sum of the steps' medians: one forward pass of the batch. */
  totalSeconds: number;
  binaryMacsPerImage: number;
  /** Whole network: binaryMacsPerImage * batch / totalSeconds / 1e9. */
  gBinaryMacsPerSecond: number;
  /** Sum of the steps' median CPU seconds, and the rate by it. */
  totalCpuSeconds: number;
  cpuGBinaryMacsPerSecond: number;
}

export interface ProfileOptions {
  /** Timed runs per step (median reported). */
  runs?: number;
  /** A timed run repeats the call until it lasts about this long. */
  minRunSeconds?: number;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

const medianOf = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

function timeCall(fn: () => void, runs: number, minRunSeconds: number): { median: number; min: number; max: number; cpu: number } {
  let reps = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < reps; i++) fn();
    const s = now() - t0;
    if (s >= minRunSeconds / 4 || reps >= 1 << 20) {
      reps = Math.max(1, Math.ceil((reps * minRunSeconds) / Math.max(s, 1e-9)));
      break;
    }
    reps *= 4;
  }
  const samples: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) fn();
    const c = process.cpuUsage(c0);
    samples.push((now() - t0) / reps);
    cpu.push((c.user + c.system) / 1e6 / reps);
  }
  return { median: medianOf(samples), min: Math.min(...samples), max: Math.max(...samples), cpu: medianOf(cpu) };
}

function stepLabel(model: EngineModel, layers: number[]): string {
  if (layers.length === 0) return 'flatten (repack bits)';
  return layers
    .map((i) => {
      const l = model.layers[i];
      return l.type === 'conv' || l.type === 'conv_real'
        ? `${l.type} ${l.inC}->${l.outC}`
        : l.type === 'maxpool2'
          ? 'maxpool2'
          : `${l.type} ${l.inBits}->${l.outC}`;
    })
    .join(' + ');
}

/**
 * Per-call profile of a runner whose input already holds `batch` images: every step is run once
 * in order (so its input is real), then timed alone, then each of its separable phases.
 */
export function profileRunner(runner: PlanRunner, model: EngineModel, batch: number, options: ProfileOptions = {}): EngineProfile {
  const runs = options.runs ?? 7;
  const minRunSeconds = options.minRunSeconds ?? 0.05;
  const macs = summary(model).layers.map((l) => l.binaryMacs);
  const steps: StepProfile[] = [];
  for (const step of runner.steps) {
    step.run(batch);
    const { cpu, ...seconds } = timeCall(() => step.run(batch), runs, minRunSeconds);
    const phases: Record<string, number> = {};
    let rest = seconds.median;
    for (const p of step.phases ?? []) {
      phases[p.phase] = timeCall(() => p.run(batch), runs, minRunSeconds).median;
      rest -= phases[p.phase];
    }
    // the phases overwrite scratch that the step reads again: leave its output as the step made it
    if (step.phases?.length) {
      step.run(batch);
      phases.rest = Math.max(0, rest);
    }
    const binaryMacsPerImage = step.layers.reduce((s, i) => s + macs[i], 0);
    steps.push({
      label: stepLabel(model, step.layers),
      layers: step.layers,
      variant: step.variant,
      binaryMacsPerImage,
      seconds,
      cpuSeconds: cpu,
      gBinaryMacsPerSecond: (binaryMacsPerImage * batch) / seconds.median / 1e9,
      phases,
    });
  }
  const totalSeconds = steps.reduce((s, x) => s + x.seconds.median, 0);
  const totalCpuSeconds = steps.reduce((s, x) => s + x.cpuSeconds, 0);
  const binaryMacsPerImage = steps.reduce((s, x) => s + x.binaryMacsPerImage, 0);
  return {
    batch,
    steps,
    totalSeconds,
    totalCpuSeconds,
    binaryMacsPerImage,
    gBinaryMacsPerSecond: (binaryMacsPerImage * batch) / totalSeconds / 1e9,
    cpuGBinaryMacsPerSecond: (binaryMacsPerImage * batch) / totalCpuSeconds / 1e9,
  };
}
