export { layerBits, packRows, isBinaryLayer, type LayerBits, type BinaryLayer } from './layer-bits';
export { emitC, cString, type CExport, type CSources, type CLayerSummary, type EmitOptions } from './c-emitter';
