import type { InferenceCall } from './runtime-side';

export interface TimingOptions {
  /** Untimed runs before the timed ones (each as long as a timed run). */
  warmup: number;
  /** Timed runs. */
  runs: number;
  /**
   * A run repeats the call until it lasts about this long, so that fast calls (batch 1 on the
   * engine takes microseconds) are timed well above the clock's resolution and jitter.
   */
  minRunSeconds: number;
  /** At most this many calls per run. */
  maxCallsPerRun?: number;
}

export interface TimingSamples {
  /** Seconds per call, one value per timed run. */
  secondsPerCall: number[];
  callsPerRun: number;
}

function now(): bigint {
  return process.hrtime.bigint();
}

/** Seconds `calls` consecutive calls take. */
export async function runCalls(call: InferenceCall, calls: number): Promise<number> {
  const t0 = now();
  for (let i = 0; i < calls; i++) {
    const r = call();
    if (r instanceof Promise) await r;
  }
  return Number(now() - t0) / 1e9;
}

/**
 * Wall seconds and process CPU seconds (all threads of the process) of `calls` consecutive
 * calls. On a machine shared with other load, CPU time is disturbed less than wall time; for a
 * multi-threaded side it sums its threads.
 */
export async function runCallsWithCpu(call: InferenceCall, calls: number): Promise<{ seconds: number; cpuSeconds: number }> {
  const c0 = process.cpuUsage();
  const seconds = await runCalls(call, calls);
  const c = process.cpuUsage(c0);
  return { seconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

/**
 * Warm-up, then `runs` timed runs of a calibrated number of calls each. The first call (which
 * may compile kernels or allocate) is made once before calibration and never timed.
 */
export async function timeCall(call: InferenceCall, options: TimingOptions): Promise<TimingSamples> {
  const callsPerRun = await calibrateCalls(call, options);
  for (let w = 0; w < options.warmup; w++) await runCalls(call, callsPerRun);
  const secondsPerCall: number[] = [];
  for (let r = 0; r < options.runs; r++) secondsPerCall.push((await runCalls(call, callsPerRun)) / callsPerRun);
  return { secondsPerCall, callsPerRun };
}

/**
 * Calls per run so that a run lasts about `minRunSeconds`. Makes the first call (untimed: it may
 * compile or allocate), then probes with growing call counts.
 */
export async function calibrateCalls(call: InferenceCall, options: Pick<TimingOptions, 'minRunSeconds' | 'maxCallsPerRun'>): Promise<number> {
  const maxCalls = options.maxCallsPerRun ?? 100_000;
  await runCalls(call, 1);
  let calls = 1;
  let seconds = await runCalls(call, 1);
  // Grow the probe until it is long enough to extrapolate from.
  while (seconds < options.minRunSeconds / 8 && calls < maxCalls) {
    calls = Math.min(maxCalls, calls * 4);
    seconds = await runCalls(call, calls);
  }
  return Math.max(1, Math.min(maxCalls, Math.ceil((calls * options.minRunSeconds) / Math.max(seconds, 1e-9))));
}
