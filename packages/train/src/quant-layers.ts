import * as tf from '@tensorflow/tfjs';
import { binaryConv2d, binaryConvActive } from './binary-conv';
import { quantize, type QuantizerName } from './quantizers';

/**
 * Larq-style quantized layers: the input and the kernel pass through quantizers (by name, so the
 * layer serializes), the latent float kernel lives in [-clip, clip] (`clipLatentWeights`, called
 * by the trainer after every optimizer step: tfjs-layers never applies weight constraints itself).
 * No bias: a batch norm follows every cbnn layer.
 */
export interface QuantLayerArgs {
  inputQuantizer?: QuantizerName | null;
  kernelQuantizer?: QuantizerName | null;
  /** Latent weights are clipped to [-kernelClip, kernelClip]; null for float kernels. */
  kernelClip?: number | null;
  /** Seed of the kernel initializer (deterministic training). */
  seed?: number;
  name?: string;
  inputShape?: tf.Shape;
  trainable?: boolean;
}

interface QuantConfig {
  inputQuantizer: QuantizerName | null;
  kernelQuantizer: QuantizerName | null;
  kernelClip: number | null;
  seed?: number;
}

/**
 * tfjs-layers turns snake_case strings of a saved config into camelCase on load ('ste_sign' comes
 * back as 'steSign'): accept both spellings.
 */
function quantizerName(value: string | null | undefined): QuantizerName | null {
  if (value === undefined) return 'ste_sign';
  if (value === null) return null;
  return value.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) as QuantizerName;
}

function quantConfig(args: QuantLayerArgs): QuantConfig {
  const kernelQuantizer = quantizerName(args.kernelQuantizer);
  return {
    inputQuantizer: quantizerName(args.inputQuantizer),
    kernelQuantizer,
    kernelClip: args.kernelClip === undefined ? (kernelQuantizer ? 1 : null) : args.kernelClip,
    seed: args.seed,
  };
}

type BaseLayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];

/** The base Layer args (name, input shapes from a saved config, ...), without ours. */
function baseArgs(args: QuantLayerArgs): BaseLayerArgs {
  const { inputQuantizer: _i, kernelQuantizer: _k, kernelClip: _c, seed: _s, ...rest } = args as QuantLayerArgs & Record<string, unknown>;
  for (const key of ['filters', 'kernelSize', 'padding', 'units']) delete rest[key];
  return rest as BaseLayerArgs;
}

/** A layer whose kernel is a latent float weight read through a kernel quantizer. */
export interface QuantizedKernelLayer {
  readonly quant: QuantConfig;
  /** The latent (float) kernel variable. */
  latentKernel(): tf.LayerVariable;
  clipLatentWeights(): void;
}

function clipKernel(kernel: tf.LayerVariable, clip: number | null): void {
  if (clip === null) return;
  tf.tidy(() => {
    kernel.write(tf.clipByValue(kernel.read(), -clip, clip));
  });
}

export interface QuantConv2DArgs extends QuantLayerArgs {
  filters: number;
  kernelSize?: number;
  padding?: 'same' | 'valid';
}

export class QuantConv2D extends tf.layers.Layer implements QuantizedKernelLayer {
  static className = 'QuantConv2D';
  readonly quant: QuantConfig;
  readonly filters: number;
  readonly kernelSize: number;
  readonly padding: 'same' | 'valid';
  private kernel: tf.LayerVariable | null = null;

  constructor(args: QuantConv2DArgs) {
    super(baseArgs(args));
    this.quant = quantConfig(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize ?? 3;
    this.padding = args.padding ?? 'same';
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const inChannels = shape[shape.length - 1] as number;
    this.kernel = this.addWeight(
      'kernel',
      [this.kernelSize, this.kernelSize, inChannels, this.filters],
      'float32',
      tf.initializers.glorotUniform({ seed: this.quant.seed }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = inputShape as tf.Shape;
    const shrink = this.padding === 'valid' ? this.kernelSize - 1 : 0;
    return [n, h === null ? null : (h as number) - shrink, w === null ? null : (w as number) - shrink, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = quantize(this.quant.inputQuantizer, Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const k = quantize(this.quant.kernelQuantizer, this.latentKernel().read()) as tf.Tensor4D;
      // Both operands ±1 (sign quantizers): the popcount forward on tfjs-wasm (same numbers).
      if (this.quant.inputQuantizer && this.quant.kernelQuantizer && binaryConvActive()) return binaryConv2d(x, k, this.padding);
      return tf.conv2d(x, k, 1, this.padding);
    });
  }

  latentKernel(): tf.LayerVariable {
    if (!this.kernel) throw new Error(`layer ${this.name} is not built`);
    return this.kernel;
  }

  clipLatentWeights(): void {
    clipKernel(this.latentKernel(), this.quant.kernelClip);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      padding: this.padding,
      inputQuantizer: this.quant.inputQuantizer,
      kernelQuantizer: this.quant.kernelQuantizer,
      kernelClip: this.quant.kernelClip,
    };
  }
}

export interface QuantDenseArgs extends QuantLayerArgs {
  units: number;
}

export class QuantDense extends tf.layers.Layer implements QuantizedKernelLayer {
  static className = 'QuantDense';
  readonly quant: QuantConfig;
  readonly units: number;
  private kernel: tf.LayerVariable | null = null;

  constructor(args: QuantDenseArgs) {
    super(baseArgs(args));
    this.quant = quantConfig(args);
    this.units = args.units;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const inDim = shape[shape.length - 1] as number;
    this.kernel = this.addWeight('kernel', [inDim, this.units], 'float32', tf.initializers.glorotUniform({ seed: this.quant.seed }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = inputShape as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = quantize(this.quant.inputQuantizer, Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const k = quantize(this.quant.kernelQuantizer, this.latentKernel().read()) as tf.Tensor2D;
      return tf.matMul(x, k);
    });
  }

  latentKernel(): tf.LayerVariable {
    if (!this.kernel) throw new Error(`layer ${this.name} is not built`);
    return this.kernel;
  }

  clipLatentWeights(): void {
    clipKernel(this.latentKernel(), this.quant.kernelClip);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      inputQuantizer: this.quant.inputQuantizer,
      kernelQuantizer: this.quant.kernelQuantizer,
      kernelClip: this.quant.kernelClip,
    };
  }
}

tf.serialization.registerClass(QuantConv2D);
tf.serialization.registerClass(QuantDense);

export function isQuantizedKernelLayer(layer: tf.layers.Layer): layer is tf.layers.Layer & QuantizedKernelLayer {
  return layer instanceof QuantConv2D || layer instanceof QuantDense;
}

/** Clip every quantized layer's latent kernel (after each optimizer step). */
export function clipLatentWeights(model: tf.LayersModel): void {
  for (const layer of model.layers) if (isQuantizedKernelLayer(layer)) layer.clipLatentWeights();
}
