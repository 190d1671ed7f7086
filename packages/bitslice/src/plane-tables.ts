import { InvalidInputError, wordsForChannels, type PlaneLayout } from '@cbnn/core';

/**
 * Lookup tables that turn a pixel byte straight into its plane values, so the batch loops do
 * one table read per pixel channel instead of a shift, mask and branch per plane.
 */

/** A run of consecutive features that come from the same dataset channel. */
export interface FloatPlaneRun {
  channelIndex: number;
  /** First feature of the run in the feature vector. */
  featureOffset: number;
  length: number;
  /** 256 x length: row v holds ±1 for each of the run's bits of byte v (bit 1 = +1). */
  table: Float32Array;
}

export function floatPlaneRuns(layout: PlaneLayout): FloatPlaneRun[] {
  const runs: FloatPlaneRun[] = [];
  layout.planes.forEach((plane, k) => {
    const last = runs[runs.length - 1];
    if (last && last.channelIndex === plane.channelIndex) last.length++;
    else runs.push({ channelIndex: plane.channelIndex, featureOffset: k, length: 1, table: new Float32Array(0) });
  });
  for (const run of runs) {
    run.table = new Float32Array(256 * run.length);
    for (let v = 0; v < 256; v++) {
      for (let j = 0; j < run.length; j++) {
        const bit = layout.planes[run.featureOffset + j].bit;
        run.table[v * run.length + j] = (v >> bit) & 1 ? 1 : -1;
      }
    }
  }
  return runs;
}

/**
 * Per dataset channel, 256 x words uint32: the packed words (core's layout: feature k in bit
 * k % 32 of word k / 32) holding that channel's selected bits of byte v. A pixel's words are the
 * OR over its channels.
 */
export interface PackedPlaneTable {
  words: number;
  /** [channel][v][word] flattened; channels without a selected plane are all zero. */
  table: Uint32Array;
}

export function packedPlaneTable(layout: PlaneLayout, channels: number): PackedPlaneTable {
  const words = wordsForChannels(layout.planes.length);
  const table = new Uint32Array(channels * 256 * words);
  layout.planes.forEach((plane, k) => {
    for (let v = 0; v < 256; v++) {
      if ((v >> plane.bit) & 1) table[(plane.channelIndex * 256 + v) * words + (k >>> 5)] |= 1 << (k & 31);
    }
  });
  return { words, table };
}

/** pixel/127.5 - 1 for every byte: the full-precision model's input scaling to [-1, 1]. */
export const SCALED_PIXEL_TABLE: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = v / 127.5 - 1;
  return t;
})();

/** The layout must be over this dataset's channels (same names, same order). */
export function checkLayoutChannels(layout: PlaneLayout, channelNames: readonly string[]): void {
  const same = layout.channels.length === channelNames.length && layout.channels.every((c, i) => c === channelNames[i]);
  const inRange = layout.planes.every(
    (p) => p.channelIndex >= 0 && p.channelIndex < channelNames.length && channelNames[p.channelIndex] === p.channel && p.bit >= 0 && p.bit <= 7,
  );
  if (!same || !inRange || layout.planes.length === 0) {
    throw new InvalidInputError(
      `plane layout over channels [${layout.channels.join(', ')}] does not fit the dataset's channels [${channelNames.join(', ')}]`,
      { field: 'layout' },
      'build it with resolvePlanes(selection, manifest.channelNames)',
    );
  }
}
