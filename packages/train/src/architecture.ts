import { z } from 'zod';

/** The network families cbnn trains (docs/contracts.md "Binary network topology"). */
export const archSchema = z.enum(['vgg-small', 'mlp']);
export type Arch = z.infer<typeof archSchema>;

export const firstLayerSchema = z.enum(['binary', 'real']);
export type FirstLayer = z.infer<typeof firstLayerSchema>;

/** Channel count under a width multiplier: rounded, at least 1. */
export function scaledWidth(base: number, width: number): number {
  return Math.max(1, Math.round(base * width));
}

export const VGG_SMALL_BASE = { conv1: 64, conv2: 128, dense: 512 } as const;
export const MLP_BASE_HIDDEN: readonly number[] = [512, 512];

export interface ModelSpec {
  arch: Arch;
  /** Width multiplier of every hidden layer. */
  width: number;
  inputShape: [number, number, number];
  classes: number;
  firstLayer: FirstLayer;
  /** MLP hidden sizes before the width multiplier (default [512, 512]). */
  hidden?: readonly number[];
  /** Seed of the weight initializers. */
  seed: number;
}
