import { InvalidInputError, wordsForChannels } from '@cbnn/core';
import type { EnginePlan } from './engine-plan';
import { referenceKernels } from './reference-kernels';
import { bindBinaryConv, chooseConvKernel, convKernelApplies, type ConvKernel } from './conv-binding';
import { bindDense, bindDenseOut } from './wasm-dense';
import { WasmKernelInstance } from './wasm-kernels';

/**
 * Runs a plan on up to `maxBatch` items whose packed input the caller writes into `input`.
 * All buffers are allocated once, at creation: `run` allocates nothing.
 */
export interface PlanRunner {
  /** maxBatch * plan.inputWords words. */
  readonly input: Uint32Array;
  /** Run the first `count` items; returns the scores buffer (count*classes valid values at its start). */
  run(count: number): Float32Array;
  /**
   * The calls `run` makes, in order, for the per-layer profile. Step i reads what step i-1
   * wrote, so a step may be repeated once the steps before it have run.
   */
  readonly steps: readonly RunnerStep[];
  /** The kernel of each binary conv call, in order (wasm runner; empty for the reference). */
  readonly convKernels: readonly ConvKernel[];
}

/** One call of a runner: the model layers it computes (a conv with its fused pool is one call). */
export interface RunnerStep {
  /** Indices into model.layers. */
  layers: number[];
  /** The kernel variant (op, tile, popcount ISA), e.g. 'b-conv3x3-im2col-2x4-i64popcnt'. */
  variant: string;
  run(count: number): void;
  /** Parts of the call that can run alone (the profile reports the rest as the remainder). */
  phases?: Array<{ phase: string; run(count: number): void }>;
}

/** Model layer index of each plan step (flatten, which has no layer, gets the next layer's). */
function layerIndices(plan: EnginePlan): number[] {
  const out: number[] = [];
  let layer = 0;
  for (const step of plan.steps) {
    out.push(layer);
    if (step.op !== 'flatten') layer++;
  }
  return out;
}

export function createReferenceRunner(plan: EnginePlan, maxBatch: number): PlanRunner {
  const input = new Uint32Array(maxBatch * plan.inputWords);
  const buffers: Array<Uint32Array | Float32Array> = [input];
  for (const step of plan.steps) {
    buffers.push(step.op === 'dense_out' ? new Float32Array(maxBatch * step.outFloats) : new Uint32Array(maxBatch * step.outWords));
  }
  const k = referenceKernels;
  const layerOf = layerIndices(plan);
  const steps: RunnerStep[] = plan.steps.map((step, i) => {
    const src = buffers[i] as Uint32Array;
    const dst = buffers[i + 1];
    const run = (count: number): void => {
      switch (step.op) {
        case 'conv':
          k.convBinary(src, count, step.input.height, step.input.width, step.layer, dst as Uint32Array);
          break;
        case 'conv_real':
          k.convReal(src, count, step.input.height, step.input.width, step.layer, dst as Uint32Array);
          break;
        case 'maxpool2':
          k.maxPool2(src, count, step.input.height, step.input.width, step.input.channels, dst as Uint32Array);
          break;
        case 'flatten':
          k.flattenPacked(src, count, step.pixels, step.channels, dst as Uint32Array);
          break;
        case 'dense':
          k.denseBinary(src, count, step.layer, dst as Uint32Array);
          break;
        case 'dense_out':
          k.denseOut(src, count, step.layer, dst as Float32Array);
          break;
      }
    };
    return { layers: step.op === 'flatten' ? [] : [layerOf[i]], variant: `reference-${step.op}`, run };
  });
  return {
    input,
    steps,
    convKernels: [],
    run(count: number): Float32Array {
      for (const step of steps) step.run(count);
      return buffers[buffers.length - 1] as Float32Array;
    },
  };
}

/**
 * The wasm runner keeps weights, per-layer activations, 'same' padding scratch and scores in one
 * instance's memory, sized for `maxBatch` up front; each step is one call into the module.
 * `convKernels` fixes the kernel of each binary conv call (worker threads get the calling
 * thread's choice, so every thread runs, and bench.json names, the same kernels); by default
 * each is chosen by chooseConvKernel.
 */
export function createWasmRunner(plan: EnginePlan, maxBatch: number, convKernels?: readonly ConvKernel[]): PlanRunner {
  const wasm = new WasmKernelInstance();
  const k = wasm.exports;
  const inputPtr = wasm.alloc(maxBatch * plan.inputWords * 4);
  const steps: RunnerStep[] = [];
  const layerOf = layerIndices(plan);
  let src = inputPtr;
  let scoresPtr = 0;
  const kernelsUsed: ConvKernel[] = [];
  for (let s = 0; s < plan.steps.length; s++) {
    const step = plan.steps[s];
    const inp = src;
    switch (step.op) {
      case 'conv': {
        // A 2x2 max-pool right after a conv is fused into it: the conv ORs its bits into the
        // pooled pixel and skips the rows and columns the pool drops.
        const next = plan.steps[s + 1];
        const pool = next?.op === 'maxpool2';
        const { height, width } = step.input;
        const forced = convKernels?.[kernelsUsed.length];
        if (forced && !convKernelApplies(forced, step.layer)) {
          throw new InvalidInputError(
            `convKernels[${kernelsUsed.length}] '${forced}' cannot run layers[${layerOf[s]}] (a conv of ${step.layer.inC} input channels)`,
            { field: `convKernels[${kernelsUsed.length}]` },
            'lut9 runs 1 input channel, taplut 2 to 28, im2col any; or leave convKernels out to let the engine choose',
          );
        }
        const kernel = forced ?? chooseConvKernel(step.layer, height, width, pool);
        kernelsUsed.push(kernel);
        const conv = bindBinaryConv(wasm, step.layer, height, width, pool, kernel);
        const out = wasm.alloc(maxBatch * (pool ? next.outWords : step.outWords) * 4);
        const layers = pool ? [layerOf[s], layerOf[s + 1]] : [layerOf[s]];
        if (pool) s++;
        steps.push({
          layers,
          variant: conv.variant + (pool ? '+maxpool2' : ''),
          run: (n) => conv.run(inp, n, out),
          phases: conv.runIm2col ? [{ phase: 'im2col', run: (n) => conv.runIm2col?.(inp, n, out) }] : undefined,
        });
        src = out;
        break;
      }
      case 'conv_real': {
        const { layer, input } = step;
        const wt = wasm.put(layer.weights);
        const scale = wasm.put(layer.scale);
        const bias = wasm.put(layer.bias);
        const out = wasm.alloc(maxBatch * step.outWords * 4);
        const same = layer.padding === 'same' ? 1 : 0;
        steps.push({
          layers: [layerOf[s]],
          variant: 'r-conv3x3-1x1-f32',
          run: (n) => k.convReal(inp, n, input.height, input.width, layer.inC, same, wt, layer.outC, scale, bias, out),
        });
        src = out;
        break;
      }
      case 'maxpool2': {
        const { input } = step;
        const out = wasm.alloc(maxBatch * step.outWords * 4);
        steps.push({
          layers: [layerOf[s]],
          variant: 'b-maxpool2-or',
          run: (n) => k.maxPool2(inp, n, input.height, input.width, wordsForChannels(input.channels), out),
        });
        src = out;
        break;
      }
      case 'flatten': {
        const out = wasm.alloc(maxBatch * step.outWords * 4);
        steps.push({ layers: [], variant: 'b-flatten-bits', run: (n) => k.flattenPacked(inp, n, step.pixels, step.channels, out) });
        src = out;
        break;
      }
      case 'dense': {
        const dense = bindDense(wasm, step.layer);
        const out = wasm.alloc(maxBatch * step.outWords * 4);
        steps.push({ layers: [layerOf[s]], variant: dense.variant, run: (n) => dense.run(inp, n, out) });
        src = out;
        break;
      }
      case 'dense_out': {
        const dense = bindDenseOut(wasm, step.layer);
        const out = wasm.alloc(maxBatch * step.outFloats * 4);
        steps.push({ layers: [layerOf[s]], variant: dense.variant, run: (n) => dense.run(inp, n, out) });
        scoresPtr = out;
        break;
      }
    }
  }
  // All allocation is done: the memory does not grow any more, so these views stay valid.
  const input = wasm.u32(inputPtr, maxBatch * plan.inputWords);
  const scores = wasm.f32(scoresPtr, maxBatch * plan.classes);
  if (convKernels && convKernels.length !== kernelsUsed.length) {
    throw new InvalidInputError(`convKernels names ${convKernels.length} kernels, the model has ${kernelsUsed.length} binary convs`, { field: 'convKernels' });
  }
  return {
    input,
    steps,
    convKernels: kernelsUsed,
    run(count: number): Float32Array {
      for (let i = 0; i < steps.length; i++) steps[i].run(count);
      return scores;
    },
  };
}
