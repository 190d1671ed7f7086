import { z } from 'zod';

/** Stage and pipeline names end up in folder names (`out/<stage>`), so keep them plain. */
export const STAGE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.=-]*$/;

/** `30`, `30s`, `500ms`, `5m`, `2h` (a bare number is seconds). */
export const durationSchema = z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration like 30s, 5m, 1h')]);

export const stageSchema = z
  .strictObject({
    description: z.string().optional(),
    /** A registered handler name, e.g. `train.bnn`. */
    uses: z.string().min(1).optional(),
    /** An external command, run by `sh -c` in the pipeline's folder. */
    cmd: z.string().min(1).optional(),
    /** Files (relative to the pipeline's folder) whose content is part of a cmd stage's key. */
    deps: z.array(z.string().min(1)).optional(),
    /** Files or folders (relative to the stage's output folder) a cmd stage must produce. */
    outs: z.array(z.string().min(1)).optional(),
    /** input name -> upstream stage (`train`), instance (`search-w0.5`) or all instances (`search[*]`). */
    needs: z.record(z.string(), z.string().min(1)).optional(),
    with: z.record(z.string(), z.unknown()).optional(),
    /** Fan-out: one instance per combination of values. */
    matrix: z
      .record(z.string(), z.array(z.unknown()).min(1, { message: 'a matrix axis needs at least one value (an empty list would make no instance)' }))
      .optional(),
    /** Instance name template of a matrix stage, e.g. `search-w${matrix.width}`. */
    name: z.string().min(1).optional(),
    metrics: z.array(z.string().min(1)).optional(),
    plots: z.array(z.string().min(1)).optional(),
    retries: z.number().int().min(0).max(20).optional(),
    timeout: durationSchema.optional(),
    threads: z.number().int().positive().optional(),
  })
  .superRefine((stage, ctx) => {
    if ((stage.uses === undefined) === (stage.cmd === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: stage.uses === undefined ? [] : ['cmd'],
        message: 'a stage needs exactly one of `uses:` (a handler) or `cmd:` (a command)',
      });
    }
    if (stage.uses !== undefined) {
      for (const key of ['deps', 'outs'] as const) {
        if (stage[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `\`${key}:\` is only for \`cmd:\` stages` });
      }
    }
    if (stage.name !== undefined && stage.matrix === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: '`name:` templates instance names of a `matrix:` stage; this stage has no matrix' });
    }
  });
export type StageSpec = z.infer<typeof stageSchema>;

export const pipelineSchema = z.strictObject({
  name: z.string().regex(STAGE_NAME_PATTERN, 'letters, digits, _ . = - only'),
  description: z.string().optional(),
  seed: z.number().int().min(0).default(0),
  params: z.record(z.string(), z.unknown()).default({}),
  stages: z
    .record(z.string().regex(STAGE_NAME_PATTERN, 'stage names: letters, digits, _ . = - only'), stageSchema)
    .refine((s) => Object.keys(s).length > 0, 'a pipeline needs at least one stage'),
});
export type PipelineSpec = z.infer<typeof pipelineSchema>;

export function durationToMs(d: number | string | undefined): number | undefined {
  if (d === undefined) return undefined;
  if (typeof d === 'number') return d * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
