import { z } from 'zod';

/**
 * Records the exports write beside their artifacts (light subpath `@cbnn/deploy/export-format`,
 * no Node-only imports): `export-c.json` for `cbnn export c`, `export-web.json` for
 * `cbnn export web`. Validated by these schemas when read back.
 */
export const EXPORT_C_FILE = 'export-c.json';
export const EXPORT_WEB_FILE = 'export-web.json';

const modelRef = z.object({ file: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const inputSchema = z.object({
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channels: z.array(z.string()),
  planes: z.array(z.string()),
});

/** What both records say: the model exported, its input and classes, the files written (bytes). */
const exportBase = z.object({
  model: modelRef,
  input: inputSchema,
  classNames: z.array(z.string()),
  files: z.record(z.string(), z.number().int().nonnegative()),
});

export const exportCRecordSchema = exportBase.extend({
  format: z.literal('cbnn.export-c'),
  version: z.literal(1),
  /** Bytes of the const data (weights, thresholds, flip bits, scale, bias, plane tables). */
  constBytes: z.number().int().nonnegative(),
  ram: z.object({ activationBytes: z.number().int(), scratchBytes: z.number().int(), totalBytes: z.number().int() }),
  /** From `size` on the compiled object; null when no compiler was available (see flashNote). */
  flash: z
    .object({
      flashBytes: z.number().int(),
      text: z.number().int(),
      data: z.number().int(),
      bss: z.number().int(),
      compiler: z.string(),
      target: z.string(),
      command: z.string(),
    })
    .nullable(),
  flashNote: z.string().optional(),
  layers: z.array(
    z.object({
      index: z.number().int(),
      type: z.string(),
      output: z.object({ height: z.number().int(), width: z.number().int(), channels: z.number().int() }),
      constBytes: z.number().int(),
    }),
  ),
});
export type ExportCRecord = z.infer<typeof exportCRecordSchema>;

export const exportWebRecordSchema = exportBase.extend({
  format: z.literal('cbnn.export-web'),
  version: z.literal(1),
  /** Bundled test images (from a dataset's split), with their labels. */
  images: z.object({ count: z.number().int().nonnegative(), split: z.string().optional(), dataset: z.string().optional() }),
});
export type ExportWebRecord = z.infer<typeof exportWebRecordSchema>;
