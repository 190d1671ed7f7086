export * from './model-format';
export * from './random-model';
export * from './kernel-set';
export { referenceKernels, thresholdBit } from './reference-kernels';
export { createWasmKernels, WasmKernelInstance, KERNELS_WASM_PATH, type KernelExports } from './wasm-kernels';
export { buildPlan, type EnginePlan, type PlanStep } from './engine-plan';
export { profileRunner, type EngineProfile, type StepProfile, type ProfileOptions } from './engine-profile';
export type { PlanRunner, RunnerStep } from './engine-runners';
export { createPlanePacker, type PlanePacker } from './plane-packer';
export {
  createEngine,
  checkDatasetMatchesModel,
  engineOptionsSchema,
  type Engine,
  type EngineOptions,
  type EvaluateOptions,
  type EvaluationResult,
} from './engine';
export { summary, formatSummary, type LayerSummary, type ModelSummary } from './summary';
export { bindDense, bindDenseOut, bindGemm, type WasmDenseBinding } from './wasm-dense';
export { bindBinaryConv, chooseConvKernel, convKernelApplies, CONV_KERNELS, type ConvKernel } from './conv-binding';
export { bindTapLutConv, prepareTapLutConv, tapLutApplies, tapLutChunks, tapLutVariant, TAP_LUT_CHUNK_BITS, type TapLutConv } from './wasm-conv-tap-lut';
export { bindLut9Conv, lut9Table, lut9PairTable, lut9Applies, LUT9_CONV_VARIANT, LUT9_PAIR_CONV_VARIANT } from './wasm-conv-lut';
export {
  prepareIm2colConv,
  bindIm2colConv,
  fastestIm2colKernel,
  im2colConvVariant,
  im2colOutputWords,
  BORDER_CLASSES,
  type Im2colConv,
  type Im2colKernel,
  type WasmConvBinding,
} from './wasm-conv';
