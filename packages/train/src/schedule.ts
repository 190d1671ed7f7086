import { z } from 'zod';

export const scheduleSchema = z.enum(['cosine', 'one-cycle', 'constant']);
export type Schedule = z.infer<typeof scheduleSchema>;

/**
 * Learning rate at `step` of `totalSteps`.
 *  - cosine: from `peak` down to peak/1000 along half a cosine;
 *  - one-cycle: linear warm-up from peak/25 to peak over the first 30%, then cosine down to
 *    peak/10000 (Smith's one-cycle policy);
 *  - constant: `peak` throughout.
 */
export function learningRateAt(schedule: Schedule, peak: number, step: number, totalSteps: number): number {
  const t = totalSteps <= 1 ? 0 : Math.min(1, Math.max(0, step / (totalSteps - 1)));
  switch (schedule) {
    case 'constant':
      return peak;
    case 'cosine': {
      const floor = peak / 1000;
      return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
    }
    case 'one-cycle': {
      const warm = 0.3;
      if (t < warm) return peak / 25 + (peak - peak / 25) * (t / warm);
      const floor = peak / 10000;
      return floor + (peak - floor) * 0.5 * (1 + Math.cos((Math.PI * (t - warm)) / (1 - warm)));
    }
  }
}
