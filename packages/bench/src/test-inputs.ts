import { InvalidInputError, type Dataset } from '@cbnn/core';
import type { Batch } from '@cbnn/bitslice';

type NumericArray = Float32Array | Uint32Array;

/**
 * A batch of exactly `batch` real test images in a runtime's input format: the first test
 * records, repeated in order when the split holds fewer (a tiny test split still gives a batch
 * of 256). `batches` is a @cbnn/bitslice iterator factory (planes, packed planes or scaled
 * pixels) so every runtime sees its input exactly as training and evaluation produce it.
 */
export function tiledTestBatch<X extends NumericArray>(dataset: Dataset, batch: number, batches: (batchSize: number, limit: number) => Iterable<Batch<X>>): X {
  const available = dataset.manifest.splits.test.count;
  if (available === 0) throw new InvalidInputError('the dataset has no test records to benchmark on', { file: dataset.dir, field: 'splits.test.count' });
  const n = Math.min(batch, available);
  const first = batches(n, n)[Symbol.iterator]().next();
  if (first.done) throw new Error('test batch iterator yielded nothing');
  const { x, count } = first.value;
  const perImage = x.length / count;
  const out = new (x.constructor as new (length: number) => X)(batch * perImage);
  for (let i = 0; i < batch; i++) out.set(x.subarray((i % count) * perImage, ((i % count) + 1) * perImage), i * perImage);
  return out;
}
