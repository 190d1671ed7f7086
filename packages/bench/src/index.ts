export * from './statistics';
export * from './machine';
export * from './bench-format';
export { benchMarkdown } from './bench-markdown';
export * from './ratio-matrix';
export { describeSide, sameSide, accuracyOf, argmaxRows, type RuntimeSide, type InferenceCall, type Classified } from './runtime-side';
export { engineSide, engineRuntime, engineKernel, type EngineImpl } from './engine-side';
export { tfjsSide, type TfjsInput } from './tfjs-side';
export { onnxSide, ONNX_RUNTIME_NAME, ONNX_KERNEL } from './onnx-side';
export { tiledTestBatch } from './test-inputs';
export { timeCall, calibrateCalls, runCalls, type TimingOptions, type TimingSamples } from './timing';
export { computeRatios, orderRows, ratioLabel, type RatioSpec } from './ratios';
export { resolveCompactFolder, readModelFolder as readBenchModelFolder } from './model-folders';
export {
  runRuntimeBenchmark,
  runtimeBenchParamsSchema,
  ratioSpecs,
  writeBenchOutputs,
  type RuntimeBenchInput,
  type RuntimeBenchParams,
} from './runtime-benchmark';
export { benchRuntimeStage, headlineMetrics } from './runtime-stage';
export { writeStandInBnn, writeStandInFp, randomizeStandInWeights, type StandInSpec } from './stand-in-models';
export * from './kernels-bench';
