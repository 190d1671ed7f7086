export { layerBits, packRows, isBinaryLayer, type LayerBits, type BinaryLayer } from './layer-bits';
export { emitC, cString, type CExport, type CSources, type CLayerSummary, type EmitOptions } from './c-emitter';
export { exportC, describeExportC, type ExportCOptions } from './export-c';
export { measureFlash, findCompiler, DEFAULT_CFLAGS, type CompilerOptions, type FlashMeasurement } from './c-build';
export { prepareOutDir } from './out-dir';
export { resolveModelFile, loadModel, type LoadedModel } from './model-file';
export * from './export-format';
export {
  checkBuild,
  availableBuilds,
  canBuild,
  compileExample,
  runExample,
  enginePredictions,
  STRICT_FLAGS,
  SANITIZE_FLAGS,
  type CBuild,
  type CCheck,
  type EnginePredictions,
} from './c-check';
export { exportWeb, describeExportWeb, WEB_FILES, WEB_ENGINE_BUNDLE, type ExportWebOptions } from './web-export';
export { webPage, type PageInfo } from './web-page';
export { exportCStage, exportWebStage } from './export-stages';
