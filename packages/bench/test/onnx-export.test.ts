import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createRng } from '@cbnn/core';
import { buildFullPrecisionModel, exportOnnxModel, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, selectBackend } from '@cbnn/train';

/** Give batch norms non-trivial statistics so a wrong axis or order would show. */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = createRng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(
      ws.map((w, i) => {
        const values = Float32Array.from({ length: w.size }, () => rng.normal() * 0.3);
        // moving variance (last BN weight) must be positive
        if (layer.getClassName() === 'BatchNormalization' && i === ws.length - 1) for (let k = 0; k < values.length; k++) values[k] = 0.5 + Math.abs(values[k]);
        return tf.tensor(values, w.shape);
      }),
    );
  }
}

async function compare(model: tf.LayersModel, shape: [number, number, number], batch: number): Promise<number> {
  const rng = createRng(7);
  const x = Float32Array.from({ length: batch * shape[0] * shape[1] * shape[2] }, () => rng.nextFloat() * 2 - 1);
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, [batch, ...shape])) as tf.Tensor).dataSync());
  const session = await ort.InferenceSession.create(exportOnnxModel(model), { intraOpNumThreads: 1 });
  const out = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', x, [batch, ...shape]) });
  const actual = out[ONNX_OUTPUT_NAME].data as Float32Array;
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  for (let i = 0; i < actual.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
  await session.release();
  return maxDiff;
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true });
});

describe('exportOnnxModel', () => {
  it('gives onnxruntime the scores TensorFlow.js computes (VGG-small, non-square image, odd pooling)', async () => {
    const shape: [number, number, number] = [11, 9, 2];
    const model = buildFullPrecisionModel({ arch: 'vgg-small', width: 0.125, inputShape: shape, classes: 5, firstLayer: 'binary', seed: 3 });
    randomizeWeights(model, 11);
    expect(await compare(model, shape, 3)).toBeLessThan(1e-4);
  });

  it('exports the MLP (flatten of NHWC input, dense batch norms)', async () => {
    const shape: [number, number, number] = [6, 5, 1];
    const model = buildFullPrecisionModel({ arch: 'mlp', width: 0.1, hidden: [64, 32], inputShape: shape, classes: 4, firstLayer: 'binary', seed: 5 });
    randomizeWeights(model, 12);
    expect(await compare(model, shape, 2)).toBeLessThan(1e-4);
  });

  it('names the layer it cannot export', () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 3 }), tf.layers.globalAveragePooling2d({})] });
    expect(() => exportOnnxModel(model)).toThrow(/GlobalAveragePooling2D/);
  });
});
