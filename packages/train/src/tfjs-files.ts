import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomicSync, writeJsonAtomicSync, InvalidInputError, CorruptArtifactError } from '@cbnn/core';

/**
 * TensorFlow.js model files on disk (model.json + weights.bin), the layout `tf.loadLayersModel`
 * reads over HTTP in a browser. tfjs-node's `file://` handler is not available without tfjs-node,
 * hence these two IOHandlers.
 */
export const TFJS_MODEL_JSON = 'model.json';
export const TFJS_WEIGHTS_BIN = 'weights.bin';

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

export function fileSystemSaver(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      fs.mkdirSync(dir, { recursive: true });
      const manifest: tf.io.WeightsManifestConfig = [{ paths: [`./${TFJS_WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }];
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: manifest,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      writeFileAtomicSync(path.join(dir, TFJS_WEIGHTS_BIN), weightBytes(artifacts.weightData));
      writeJsonAtomicSync(path.join(dir, TFJS_MODEL_JSON), modelJson);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

export function fileSystemLoader(dir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = path.join(dir, TFJS_MODEL_JSON);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(fs.readFileSync(file, 'utf8')) as tf.io.ModelJSON;
      } catch (e) {
        throw new InvalidInputError(`cannot read TensorFlow.js model: ${(e as Error).message}`, { file });
      }
      if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
        throw new CorruptArtifactError('model.json lacks modelTopology or weightsManifest', file);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Uint8Array[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) parts.push(fs.readFileSync(path.join(dir, p)));
        }
        const data = weightBytes(parts.map((p) => p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength) as ArrayBuffer));
        return [specs, data.buffer as ArrayBuffer];
      });
    },
  };
}

export async function saveTfjsModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSystemSaver(dir));
}

export async function loadTfjsModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemLoader(dir));
}
