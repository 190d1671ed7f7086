import { wordsForChannels } from '@cbnn/core';
import type { EnginePlan } from './engine-plan';
import { referenceKernels } from './reference-kernels';
import { bindIm2colConv } from './wasm-conv';
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
}

export function createReferenceRunner(plan: EnginePlan, maxBatch: number): PlanRunner {
  const input = new Uint32Array(maxBatch * plan.inputWords);
  const buffers: Array<Uint32Array | Float32Array> = [input];
  for (const step of plan.steps) {
    buffers.push(step.op === 'dense_out' ? new Float32Array(maxBatch * step.outFloats) : new Uint32Array(maxBatch * step.outWords));
  }
  const k = referenceKernels;
  return {
    input,
    run(count: number): Float32Array {
      plan.steps.forEach((step, i) => {
        const src = buffers[i] as Uint32Array;
        const dst = buffers[i + 1];
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
      });
      return buffers[buffers.length - 1] as Float32Array;
    },
  };
}

/**
 * The wasm runner keeps weights, per-layer activations, 'same' padding scratch and scores in one
 * instance's memory, sized for `maxBatch` up front; each step is one call into the module.
 */
export function createWasmRunner(plan: EnginePlan, maxBatch: number): PlanRunner {
  const wasm = new WasmKernelInstance();
  const k = wasm.exports;
  const inputPtr = wasm.alloc(maxBatch * plan.inputWords * 4);
  const calls: Array<(count: number) => void> = [];
  let src = inputPtr;
  let scoresPtr = 0;
  for (let s = 0; s < plan.steps.length; s++) {
    const step = plan.steps[s];
    const inp = src;
    switch (step.op) {
      case 'conv': {
        // A 2x2 max-pool right after a conv is fused into it: the conv ORs its bits into the
        // pooled pixel and skips the rows and columns the pool drops.
        const next = plan.steps[s + 1];
        const pool = next?.op === 'maxpool2';
        const conv = bindIm2colConv(wasm, step.layer, step.input.height, step.input.width, pool);
        const out = wasm.alloc(maxBatch * (pool ? next.outWords : step.outWords) * 4);
        if (pool) s++;
        calls.push((n) => conv.run(inp, n, out));
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
        calls.push((n) => k.convReal(inp, n, input.height, input.width, layer.inC, same, wt, layer.outC, scale, bias, out));
        src = out;
        break;
      }
      case 'maxpool2': {
        const { input } = step;
        const out = wasm.alloc(maxBatch * step.outWords * 4);
        calls.push((n) => k.maxPool2(inp, n, input.height, input.width, wordsForChannels(input.channels), out));
        src = out;
        break;
      }
      case 'flatten': {
        const out = wasm.alloc(maxBatch * step.outWords * 4);
        calls.push((n) => k.flattenPacked(inp, n, step.pixels, step.channels, out));
        src = out;
        break;
      }
      case 'dense': {
        const dense = bindDense(wasm, step.layer);
        const out = wasm.alloc(maxBatch * step.outWords * 4);
        calls.push((n) => dense.run(inp, n, out));
        src = out;
        break;
      }
      case 'dense_out': {
        const dense = bindDenseOut(wasm, step.layer);
        const out = wasm.alloc(maxBatch * step.outFloats * 4);
        calls.push((n) => dense.run(inp, n, out));
        scoresPtr = out;
        break;
      }
    }
  }
  // All allocation is done: the memory does not grow any more, so these views stay valid.
  const input = wasm.u32(inputPtr, maxBatch * plan.inputWords);
  const scores = wasm.f32(scoresPtr, maxBatch * plan.classes);
  return {
    input,
    run(count: number): Float32Array {
      for (let i = 0; i < calls.length; i++) calls[i](count);
      return scores;
    },
  };
}
