import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  QuantConv2D,
  buildBinaryModel,
  buildFullPrecisionModel,
  clipLatentWeights,
  formatSummary,
  loadTfjsModel,
  saveTfjsModel,
  selectBackend,
  summarizeModel,
} from '../src';

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu', strict: true });
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-train-'));

describe('binary layers and builders', () => {
  it('QuantConv2D computes a ±1 convolution with zero padding', () => {
    const layer = new QuantConv2D({ filters: 1, kernelSize: 3, padding: 'same', inputQuantizer: 'ste_sign', seed: 1 });
    const x = tf.tensor4d([0.3, -0.2, 0.1, -0.9], [1, 2, 2, 1]);
    layer.apply(x);
    layer.setWeights([
      tf.tensor4d(
        Array.from({ length: 9 }, (_, i) => (i % 2 ? 0.4 : -0.1)),
        [3, 3, 1, 1],
      ),
    ]);
    const y = (layer.apply(x) as tf.Tensor).dataSync();
    // Signs of x: [+1, -1, +1, -1]; kernel signs: -1 at even positions, +1 at odd ones.
    // Output (0,0) sees taps (1,1)=x00, (1,2)=x01, (2,1)=x10, (2,2)=x11 -> -1*1 + 1*-1 + 1*1 + -1*-1 = 0.
    expect(y[0]).toBe(0);
    expect(Array.from(y).every((v) => Number.isInteger(v))).toBe(true);
  });

  it('VGG-small parameter counts follow the width multiplier, first layer binary or real', () => {
    const spec = {
      arch: 'vgg-small' as const,
      width: 0.5,
      inputShape: [28, 28, 8] as [number, number, number],
      classes: 10,
      firstLayer: 'binary' as const,
      seed: 1,
    };
    const s = summarizeModel(buildBinaryModel(spec));
    const convs = 3 * 3 * 8 * 32 + 3 * 3 * 32 * 32 + 3 * 3 * 32 * 64 + 3 * 3 * 64 * 64;
    const dense = 7 * 7 * 64 * 256 + 256 * 10;
    expect(s.params.binary).toBe(convs + dense);
    expect(s.params.float).toBe(4 * (32 + 32 + 64 + 64 + 256 + 10));
    const real = summarizeModel(buildBinaryModel({ ...spec, firstLayer: 'real' }));
    expect(real.params.binary).toBe(convs + dense - 3 * 3 * 8 * 32);
    expect(real.params.float).toBe(s.params.float + 3 * 3 * 8 * 32);
    expect(formatSummary(s)).toContain('conv1 (QuantConv2D)');
    const fp = summarizeModel(buildFullPrecisionModel({ ...spec, inputShape: [28, 28, 1] }));
    expect(fp.params.binary).toBe(0);
    expect(fp.params.float).toBe(convs - 3 * 3 * 8 * 32 + 3 * 3 * 1 * 32 + dense + s.params.float);
  });

  it('latent weights are clipped to [-1, 1]', () => {
    const model = buildBinaryModel({ arch: 'mlp', width: 0.02, inputShape: [4, 4, 2], classes: 3, firstLayer: 'binary', seed: 3 });
    const kernel = model.getLayer('dense1').getWeights()[0];
    model.getLayer('dense1').setWeights([tf.mul(kernel, 100)]);
    clipLatentWeights(model);
    const values = model.getLayer('dense1').getWeights()[0].dataSync();
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...values.map(Math.abs))).toBe(1);
  });

  it('saved tfjs models reload with the custom layers and give the same outputs', async () => {
    const model = buildBinaryModel({ arch: 'vgg-small', width: 0.1, inputShape: [8, 8, 3], classes: 4, firstLayer: 'binary', seed: 5 });
    const x = tf.tensor4d(
      Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => ((i * 7) % 5) - 2),
      [2, 8, 8, 3],
    );
    const before = (model.predict(x) as tf.Tensor).dataSync();
    const dir = tmp();
    await saveTfjsModel(model, dir);
    expect(fs.existsSync(path.join(dir, 'model.json'))).toBe(true);
    const loaded = await loadTfjsModel(dir);
    expect(loaded.getLayer('conv2')).toBeInstanceOf(QuantConv2D);
    const after = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(after)).toEqual(Array.from(before));
  });
});
