import { cifar10Source } from './cifar10-source';
import { fashionMnistSource } from './fashion-mnist-source';
import { idxSource } from './idx-source';
import { imagesSource } from './images-source';
import { mnistSource } from './mnist-source';
import { npySource } from './npy-source';
import type { DatasetSource } from './source';

/** Every source by name; adding one = one file implementing DatasetSource + one line here. */
export const DATASET_SOURCES = {
  mnist: mnistSource,
  'fashion-mnist': fashionMnistSource,
  idx: idxSource,
  cifar10: cifar10Source,
  images: imagesSource,
  npy: npySource,
} as const satisfies Record<string, DatasetSource<any>>;

export type DatasetSourceName = keyof typeof DATASET_SOURCES;
export const DATASET_SOURCE_NAMES = Object.keys(DATASET_SOURCES) as DatasetSourceName[];
