import { z } from 'zod';
import { writeFileAtomicSync, writeJsonAtomicSync, readJsonFile } from '@cbnn/core';
import { PERTURBATION_MODES } from './perturbation';

/**
 * `sensitivity.json` (docs/contracts.md). Accuracies are fractions in [0, 1]; drops are in
 * percentage points. `records` (how many images of the split were evaluated) is an addition to
 * the contract: a re-measurement (pruning.plan) must use the same images to be comparable.
 */
export const SENSITIVITY_FILE = 'sensitivity.json';
export const SENSITIVITY_CSV = 'sensitivity.csv';

export const sensitivityRowSchema = z.object({
  scope: z.enum(['single', 'cumulative']),
  mode: z.enum(PERTURBATION_MODES),
  channel: z.string(),
  bits: z.array(z.number().int().min(0).max(7)).min(1),
  label: z.string(),
  accuracy: z.number().min(0).max(1),
  accuracyStd: z.number().min(0),
  dropPoints: z.number(),
  repeats: z.number().int().min(1),
});
export type SensitivityRow = z.infer<typeof sensitivityRowSchema>;

export const sensitivityReportSchema = z.object({
  format: z.literal('cbnn.sensitivity'),
  version: z.literal(1),
  split: z.enum(['train', 'validation', 'test']),
  records: z.number().int().positive(),
  seed: z.number().int(),
  repeats: z.number().int().min(1),
  baselineAccuracy: z.number().min(0).max(1),
  rows: z.array(sensitivityRowSchema),
});
export type SensitivityReport = z.infer<typeof sensitivityReportSchema>;

export function readSensitivityReport(file: string): SensitivityReport {
  return readJsonFile(file, sensitivityReportSchema, 'sensitivity table', 'is this a sensitivity.planes output?');
}

export function writeSensitivityReport(file: string, report: SensitivityReport): void {
  writeJsonAtomicSync(file, sensitivityReportSchema.parse(report));
}

/** One line per row; `bits` as `0;1;2` so the CSV needs no quoting. */
export function sensitivityCsv(report: SensitivityReport): string {
  const header = 'scope,mode,channel,bits,label,accuracy,accuracy_std,drop_points,repeats';
  const lines = report.rows.map((r) =>
    [r.scope, r.mode, csvField(r.channel), r.bits.join(';'), csvField(r.label), fmt(r.accuracy), fmt(r.accuracyStd), fmt(r.dropPoints), r.repeats].join(','),
  );
  return [header, ...lines].join('\n') + '\n';
}

export function writeSensitivityCsv(file: string, report: SensitivityReport): void {
  writeFileAtomicSync(file, sensitivityCsv(report));
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(6);
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
