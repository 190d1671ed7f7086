import type { BenchModel, BenchSide } from './bench-format';

/**
 * One side of the benchmark: a model on a runtime with a thread count. The harness asks it for
 * an inference call on a fixed batch of real test images and times that call; accuracy is
 * measured separately, untimed.
 */
export interface RuntimeSide extends BenchSide {
  /** Bytes on disk of the file(s) this runtime loads. */
  modelBytes: number;
  /** cbnn engine: the kernel variant of each call of a forward pass. */
  kernels?: string[];
  /** cbnn engine: binary MACs of one image's forward pass. */
  binaryMacsPerImage?: number;
  /** A call that runs inference once on `batch` images (prepared here, outside the timing). */
  prepare(batch: number): Promise<InferenceCall>;
  /** Predicted classes of the first `limit` test images, untimed (for the accuracy column). */
  classify(limit: number): Promise<Classified>;
  dispose(): Promise<void> | void;
}

export interface Classified {
  predicted: Int32Array;
  labels: Uint8Array;
}

export function accuracyOf({ predicted, labels }: Classified): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return labels.length ? correct / labels.length : 0;
}

/** Runs inference once; may be synchronous or return a promise. */
export type InferenceCall = () => unknown;

const MODEL_NAMES: Record<BenchModel, string> = {
  compact: 'compact BNN',
  baseline: 'baseline BNN',
  fp: 'full precision',
};

/** 'compact BNN, cbnn wasm (i64.popcnt), 1 thread' */
export function describeSide(side: BenchSide): string {
  return `${MODEL_NAMES[side.model]}, ${side.runtime}, ${side.threads} thread${side.threads === 1 ? '' : 's'}`;
}

export function sameSide(a: BenchSide, b: BenchSide): boolean {
  return a.model === b.model && a.runtime === b.runtime && a.threads === b.threads;
}

/** Index of the highest score per row (first on ties). */
export function argmaxRows(scores: ArrayLike<number>, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[r * classes + c] > scores[r * classes + best]) best = c;
    out[r] = best;
  }
  return out;
}
