import { createRng } from '@cbnn/core';
import { classifierAccuracy, type ClassifierInput, type PackedClassifier } from './classifier';
import { perturbationMasks, perturbPixels, type PerturbationMode, type PlaneGroup } from './perturbation';
import { planeGroupLabel, planeSetKey, sensitivityPerturbations } from './plane-sets';
import type { SensitivityReport, SensitivityRow } from './sensitivity-format';

export interface EvaluationSet {
  split: 'train' | 'validation' | 'test';
  /** count*H*W*C pixels, channels innermost. */
  images: Uint8Array;
  labels: Uint8Array;
}

export interface PerturbedAccuracyOptions {
  mode: PerturbationMode;
  /** Randomize repeats (zero is deterministic and always runs once). */
  repeats: number;
  seed: number;
  batchSize?: number;
  signal?: AbortSignal;
}

export interface PerturbedAccuracy {
  /** Mean over repeats. */
  accuracy: number;
  /** Sample standard deviation over repeats (0 for one repeat). */
  accuracyStd: number;
  repeats: number;
}

/**
 * Accuracy with the planes of `groups` perturbed (all at once). The random stream of repeat r is
 * derived from (seed, mode, the canonical plane set, r), so the same set measured twice — in the
 * sensitivity table and again by pruning.plan — gives the same number.
 */
export function perturbedAccuracy(
  classify: PackedClassifier,
  input: ClassifierInput,
  data: EvaluationSet,
  groups: readonly PlaneGroup[],
  options: PerturbedAccuracyOptions,
): PerturbedAccuracy {
  const repeats = options.mode === 'zero' ? 1 : Math.max(1, options.repeats);
  const scratch = new Uint8Array(data.images.length);
  const accuracies: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const perturbed = perturbedCopy(data.images, input.channelNames, groups, options.mode, options.seed, r, scratch);
    accuracies.push(classifierAccuracy(classify, input, perturbed, data.labels, options));
  }
  return { accuracy: mean(accuracies), accuracyStd: sampleStd(accuracies), repeats };
}

/**
 * The images exactly as repeat `repeat` of `perturbedAccuracy` sees them: lets another evaluator
 * (a TensorFlow.js model, a test) score the very same perturbed input.
 */
export function perturbedCopy(
  images: Uint8Array,
  channelNames: readonly string[],
  groups: readonly PlaneGroup[],
  mode: PerturbationMode,
  seed: number,
  repeat: number,
  out?: Uint8Array,
): Uint8Array {
  const masks = perturbationMasks(groups, channelNames);
  const rng = createRng(seed).fork(`${mode}|${planeSetKey(groups, channelNames)}|${repeat}`);
  return perturbPixels(images, channelNames.length, masks, mode, rng, out);
}

export interface SensitivityOptions {
  modes: readonly PerturbationMode[];
  repeats: number;
  seed: number;
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each row (for progress reports). */
  onRow?: (row: SensitivityRow, done: number, total: number) => void;
}

/** The whole table: every single plane and every cumulative LSB-up set, in every mode. */
export function analyseSensitivity(classify: PackedClassifier, input: ClassifierInput, data: EvaluationSet, options: SensitivityOptions): SensitivityReport {
  const baselineAccuracy = classifierAccuracy(classify, input, data.images, data.labels, options);
  const specs = sensitivityPerturbations(input.layout);
  const total = specs.length * options.modes.length;
  const rows: SensitivityRow[] = [];
  for (const spec of specs) {
    for (const mode of options.modes) {
      const m = perturbedAccuracy(classify, input, data, [spec.group], { ...options, mode });
      const row: SensitivityRow = {
        scope: spec.scope,
        mode,
        channel: spec.group.channel,
        bits: spec.group.bits,
        label: planeGroupLabel(spec.group),
        accuracy: m.accuracy,
        accuracyStd: m.accuracyStd,
        dropPoints: dropPoints(baselineAccuracy, m.accuracy),
        repeats: m.repeats,
      };
      rows.push(row);
      options.onRow?.(row, rows.length, total);
    }
  }
  return {
    format: 'cbnn.sensitivity',
    version: 1,
    split: data.split,
    records: data.labels.length,
    seed: options.seed,
    repeats: options.repeats,
    baselineAccuracy,
    rows,
  };
}

/** Accuracy lost, in percentage points (positive = worse than the baseline). */
export function dropPoints(baselineAccuracy: number, accuracy: number): number {
  return (baselineAccuracy - accuracy) * 100;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1));
}
