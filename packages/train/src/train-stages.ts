import * as fs from 'node:fs';
import * as path from 'node:path';
import { planeBatches, scaledPixelBatches } from '@cbnn/bitslice';
import {
  InvalidInputError,
  allPlanes,
  defineStage,
  readDataset,
  resolvePlanes,
  selectionOfLayout,
  writeFileAtomicSync,
  writeJsonAtomicSync,
  type StageContext,
} from '@cbnn/core';
import { ENGINE_MODEL_FILE, writeEngineModel } from '@cbnn/kernels';
import type { ModelSpec } from './architecture';
import { selectBackend, useGradientKernels } from './backend';
import { buildBinaryModel, buildFullPrecisionModel } from './builders';
import { defaultGradientShards } from './data-parallel';
import { exportEngineModel } from './engine-export';
import { EPOCHS_FILE, MODEL_INFO_FILE, ONNX_FILE, TFJS_DIR, type ModelInfo } from './model-info';
import { exportOnnxModel } from './onnx-export';
import { formatSummary, summarizeModel } from './model-summary';
import { budgetStopRule, readReferenceCurve } from './early-stop';
import { readPlanPlanes } from './plan-file';
import { saveTfjsModel } from './tfjs-files';
import { predictSplit, trainModel, type BatchSource } from './trainer';
import { trainBnnDescriptor, trainFpDescriptor, type TrainBnnParams, type TrainFpParams } from './stage-descriptors';

export { trainBnnParamsSchema, trainFpParamsSchema, type TrainBnnParams, type TrainFpParams } from './stage-descriptors';

const DEFAULT_LR = { bnn: 0.005, fp: 0.001 };

async function runTraining(
  ctx: StageContext<TrainBnnParams | TrainFpParams>,
  kind: 'bnn' | 'fp',
): Promise<{ metrics: Record<string, number | string | boolean> }> {
  const params = ctx.params;
  const bnnParams = kind === 'bnn' ? (params as TrainBnnParams) : undefined;
  const seed = params.seed ?? ctx.seed;
  const gradientShards = params.gradientShards ?? defaultGradientShards(params.batchSize);
  const backend = await selectBackend({ prefer: params.backend, logger: ctx.logger });
  const kernels = useGradientKernels(params.gradientKernels);
  if (kernels) ctx.logger.info(`training kernels: ${kernels.slice(2)}`);
  const dataset = readDataset(ctx.inputs.dataset);
  const { height, width, channels } = dataset.manifest.shape;
  const channelNames = dataset.manifest.channelNames;
  const classNames = dataset.manifest.classNames;

  let selection = allPlanes(channelNames);
  let planesSource = 'all planes';
  if (bnnParams?.planes && ctx.inputs.plan) {
    throw new InvalidInputError('give train.bnn either a plan input or a planes param, not both', { field: 'planes' });
  }
  if (bnnParams?.planes) {
    selection = bnnParams.planes;
    planesSource = 'params.planes';
  } else if (ctx.inputs.plan && bnnParams) {
    const fromPlan = readPlanPlanes(ctx.inputs.plan, bnnParams.dropExtra);
    selection = fromPlan.planes;
    planesSource = `plan ${fromPlan.source}`;
    if (fromPlan.fallback) ctx.logger.warn(fromPlan.fallback);
  }
  const layout = resolvePlanes(selection, channelNames);
  const inputShape: [number, number, number] = kind === 'bnn' ? [height, width, layout.planes.length] : [height, width, channels];
  const firstLayer = bnnParams?.firstLayer ?? 'real';
  if (kind === 'bnn' && params.arch === 'mlp' && firstLayer === 'real') {
    throw new InvalidInputError("the engine has no real-valued dense layer: an 'mlp' needs firstLayer 'binary'", { field: 'firstLayer' });
  }
  const spec: ModelSpec = { arch: params.arch, width: params.width, inputShape, classes: classNames.length, firstLayer, hidden: params.hidden, seed };
  const model = kind === 'bnn' ? buildBinaryModel(spec) : buildFullPrecisionModel(spec);
  const summary = summarizeModel(model);
  ctx.logger.info(
    { planes: selectionOfLayout(layout), planesSource, params: summary.params },
    `${kind} model ${params.arch} w=${params.width}\n${formatSummary(summary)}`,
  );

  const batches: BatchSource = kind === 'bnn' ? (r) => planeBatches(dataset, { ...r, layout }) : (r) => scaledPixelBatches(dataset, r);
  const learningRate = params.learningRate ?? DEFAULT_LR[kind];
  if (bnnParams?.earlyStop && !ctx.inputs.reference) {
    throw new InvalidInputError(
      "earlyStop needs a 'reference' input: the baseline whose validation curve bounds the candidate",
      { field: 'earlyStop' },
      "add `reference: baseline` to the stage's needs",
    );
  }
  const stopRule =
    bnnParams?.earlyStop && ctx.inputs.reference ? budgetStopRule(readReferenceCurve(ctx.inputs.reference, EPOCHS_FILE), bnnParams.earlyStop) : undefined;
  try {
    const result = await trainModel({
      model,
      inputShape,
      classes: classNames.length,
      batches,
      epochs: params.epochs,
      batchSize: params.batchSize,
      learningRate,
      schedule: params.schedule,
      patience: params.patience,
      limit: params.limit,
      seed,
      trainCount: dataset.manifest.splits.train.count,
      clipLatent: kind === 'bnn',
      recalibrationSamples: params.recalibrationSamples,
      epochsFile: path.join(ctx.outDir, EPOCHS_FILE),
      logger: ctx.logger,
      progress: ctx.progress,
      signal: ctx.signal,
      threads: ctx.threads,
      threadBudget: ctx.threadBudget,
      shards: gradientShards,
      checkpointDir: ctx.checkpointDir,
      gradientKernels: params.gradientKernels,
      replica: { kind, spec },
      stopRule,
    });
    const test = predictSplit(model, batches, inputShape, 'test');
    ctx.logger.info(`best epoch ${result.bestEpoch}: validation ${result.validationAccuracy.toFixed(4)}, test ${test.accuracy.toFixed(4)} (${backend.name})`);

    await saveTfjsModel(model, path.join(ctx.outDir, TFJS_DIR));
    if (kind === 'fp') {
      // The full-precision counterpart also as ONNX: onnxruntime is the strongest float baseline the benchmark runs.
      writeFileAtomicSync(path.join(ctx.outDir, ONNX_FILE), exportOnnxModel(model));
    }
    if (kind === 'bnn') {
      const engine = exportEngineModel(model, { height, width, layout }, classNames, {
        producer: '@cbnn/train',
        arch: params.arch,
        width: params.width,
        firstLayer,
      });
      writeEngineModel(path.join(ctx.outDir, ENGINE_MODEL_FILE), engine);
    }
    const info: ModelInfo = {
      kind,
      arch: params.arch,
      width: params.width,
      planes: { selection: selectionOfLayout(layout), layout },
      firstLayer,
      classNames,
      inputShape,
      // No thread count here: the file is the same on any number of threads (shards fix the numbers).
      backend: `${backend.description}${kernels}, ${result.shards} gradient shard${result.shards === 1 ? '' : 's'} per batch`,
      seed,
      params: summary.params,
      bytes: summary.bytes,
      metrics: {
        validationAccuracy: result.validationAccuracy,
        testAccuracy: test.accuracy,
        validationRecords: dataset.manifest.splits.validation.count,
        testRecords: test.labels.length,
        bestEpoch: result.bestEpoch,
        epochs: result.epochs.length,
        stoppedEarly: result.stoppedEarly,
        ...(result.stopReason ? { stopReason: result.stopReason } : {}),
      },
      training: {
        epochs: params.epochs,
        batchSize: params.batchSize,
        learningRate,
        schedule: params.schedule,
        patience: params.patience,
        recalibrationSamples: params.recalibrationSamples,
        gradientShards: gradientShards,
        gradientKernels: params.gradientKernels,
        limit: params.limit ?? null,
        planesSource,
        hidden: params.hidden ?? null,
      },
    };
    writeJsonAtomicSync(path.join(ctx.outDir, MODEL_INFO_FILE), info);
    if (!fs.existsSync(path.join(ctx.outDir, EPOCHS_FILE))) throw new Error('epochs.jsonl was not written');
    return {
      metrics: {
        validationAccuracy: result.validationAccuracy,
        testAccuracy: test.accuracy,
        bestEpoch: result.bestEpoch,
        backend: backend.name,
        threads: result.threads,
        ...(result.resumedAtEpoch ? { resumedAtEpoch: result.resumedAtEpoch } : {}),
        samplesPerSecond: Math.round(result.samplesPerSecond),
        binaryParams: summary.params.binary,
        floatParams: summary.params.float,
      },
    };
  } finally {
    model.dispose();
  }
}

export const trainBnnStage = defineStage({ ...trainBnnDescriptor, run: (ctx) => runTraining(ctx, 'bnn') });

export const trainFpStage = defineStage({ ...trainFpDescriptor, run: (ctx) => runTraining(ctx, 'fp') });
