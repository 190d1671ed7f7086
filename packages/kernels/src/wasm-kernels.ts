import './webassembly-globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, wordsForChannels } from '@cbnn/core';
import type { KernelSet } from './kernel-set';
import { convOutputSize } from './kernel-set';
import { bindBinaryConv } from './conv-binding';
import { im2colOutputWords } from './wasm-conv';
import { bindDense, bindDenseOut, bindGemm } from './wasm-dense';
import type { ConvLayer, ConvRealLayer, DenseLayer, DenseOutLayer } from './model-format';

/** Built by tools/build-wasm.mjs; the same path works from src/ (jest) and dist/. */
export const KERNELS_WASM_PATH = path.join(__dirname, '..', 'build', 'kernels.wasm');

/** The raw exports of kernels.wasm (assembly/kernels.ts): byte offsets into `memory`. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  convIm2col(
    inp: number,
    batch: number,
    h: number,
    w: number,
    inC: number,
    same: number,
    pool: number,
    wt: number,
    kChunks: number,
    outC: number,
    outCPad: number,
    m: number,
    c: number,
    col: number,
    out: number,
    wScalar: number,
    kWords: number,
    im2colOnly: number,
  ): void;
  convTapLut(
    inp: number,
    batch: number,
    h: number,
    w: number,
    inC: number,
    same: number,
    pool: number,
    tables: number,
    chunks: number,
    pairs: number,
    outC: number,
    u: number,
    f: number,
    idx: number,
    out: number,
    indexOnly: number,
  ): void;
  convLut9(inp: number, batch: number, h: number, w: number, same: number, pool: number, lut: number, outWords: number, out: number, pairs: number): void;
  convReal(
    inp: number,
    batch: number,
    h: number,
    w: number,
    inC: number,
    same: number,
    wt: number,
    outC: number,
    scale: number,
    bias: number,
    out: number,
  ): void;
  maxPool2(inp: number, batch: number, h: number, w: number, wordsC: number, out: number): void;
  flattenPacked(inp: number, batch: number, pixels: number, c: number, out: number): void;
  denseBinary(inp: number, batch: number, inBits: number, wt: number, outC: number, thr: number, flip: number, out: number): void;
  denseOut(inp: number, batch: number, inBits: number, wt: number, outC: number, scale: number, bias: number, out: number): void;
  gemmDots(a: number, m: number, kBits: number, b: number, n: number, out: number): void;
  denseScalar(
    a: number,
    rows: number,
    rowWords: number,
    kBits: number,
    wt: number,
    n: number,
    outCPad: number,
    mode: number,
    p0: number,
    p1: number,
    out: number,
  ): void;
}

let compiled: WebAssembly.Module | undefined;

function wasmModule(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(KERNELS_WASM_PATH);
    } catch {
      throw new InvalidInputError(
        `WebAssembly kernels not built: ${KERNELS_WASM_PATH} is missing`,
        { file: KERNELS_WASM_PATH },
        "run the kernels package's build (node tools/build-wasm.mjs), or use impl 'reference'",
      );
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** Extra bytes after every buffer: a tail chunk loads a whole v128 and masks what it does not own. */
const SLACK = 16;
const ALIGN = 64;
const PAGE = 65536;

/**
 * One instance of the kernels with its own memory and a bump allocator. Allocation may grow the
 * memory, which detaches typed-array views: allocate everything first, then take views.
 */
export class WasmKernelInstance {
  readonly exports: KernelExports;
  private top: number;

  constructor() {
    const instance = new WebAssembly.Instance(wasmModule(), { env: { abort: wasmAbort } });
    this.exports = instance.exports as unknown as KernelExports;
    this.top = align(this.exports.heapBase(), ALIGN);
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }

  /** Current allocation mark, for `release`. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  alloc(bytes: number): number {
    const ptr = this.top;
    this.top = align(ptr + bytes + SLACK, ALIGN);
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / PAGE));
    return ptr;
  }

  /** Allocate and copy `data` in; returns its offset. */
  put(data: ArrayBufferView): number {
    const ptr = this.alloc(data.byteLength);
    new Uint8Array(this.memory.buffer, ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return ptr;
  }

  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
}

function wasmAbort(): never {
  throw new Error('kernels.wasm aborted');
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * The WebAssembly kernels behind the typed-array KernelSet signature: each call copies its
 * operands into the instance's memory and the result out. Convenient for tests and one-off
 * calls; the engine keeps its buffers in wasm memory and calls the exports directly.
 */
export function createWasmKernels(): KernelSet {
  const wasm = new WasmKernelInstance();
  const k = wasm.exports;
  const call = <T>(fn: () => T): T => {
    const mark = wasm.mark();
    try {
      return fn();
    } finally {
      wasm.release(mark);
    }
  };
  return {
    impl: 'wasm',
    convBinary(input: Uint32Array, batch: number, height: number, width: number, layer: ConvLayer, out: Uint32Array): void {
      call(() => {
        const outLen = batch * im2colOutputWords(height, width, layer, false);
        const inp = wasm.put(input.subarray(0, batch * height * width * wordsForChannels(layer.inC)));
        const o = wasm.alloc(outLen * 4);
        bindBinaryConv(wasm, layer, height, width, false).run(inp, batch, o);
        out.set(wasm.u32(o, outLen));
      });
    },
    convReal(input: Uint32Array, batch: number, height: number, width: number, layer: ConvRealLayer, out: Uint32Array): void {
      call(() => {
        const { height: ho, width: wo } = convOutputSize(height, width, layer.padding);
        const outLen = batch * ho * wo * wordsForChannels(layer.outC);
        const inp = wasm.put(input.subarray(0, batch * height * width * wordsForChannels(layer.inC)));
        const wt = wasm.put(layer.weights);
        const scale = wasm.put(layer.scale);
        const bias = wasm.put(layer.bias);
        const o = wasm.alloc(outLen * 4);
        k.convReal(inp, batch, height, width, layer.inC, layer.padding === 'same' ? 1 : 0, wt, layer.outC, scale, bias, o);
        out.set(wasm.u32(o, outLen));
      });
    },
    maxPool2(input: Uint32Array, batch: number, height: number, width: number, channels: number, out: Uint32Array): void {
      call(() => {
        const words = wordsForChannels(channels);
        const outLen = batch * Math.floor(height / 2) * Math.floor(width / 2) * words;
        const inp = wasm.put(input.subarray(0, batch * height * width * words));
        const o = wasm.alloc(outLen * 4);
        k.maxPool2(inp, batch, height, width, words, o);
        out.set(wasm.u32(o, outLen));
      });
    },
    flattenPacked(input: Uint32Array, batch: number, pixels: number, channels: number, out: Uint32Array): void {
      call(() => {
        const outLen = batch * wordsForChannels(pixels * channels);
        const inp = wasm.put(input.subarray(0, batch * pixels * wordsForChannels(channels)));
        const o = wasm.alloc(outLen * 4);
        k.flattenPacked(inp, batch, pixels, channels, o);
        out.set(wasm.u32(o, outLen));
      });
    },
    denseBinary(input: Uint32Array, batch: number, layer: DenseLayer, out: Uint32Array): void {
      call(() => {
        const outLen = batch * wordsForChannels(layer.outC);
        const inp = wasm.put(input.subarray(0, batch * wordsForChannels(layer.inBits)));
        const o = wasm.alloc(outLen * 4);
        bindDense(wasm, layer).run(inp, batch, o);
        out.set(wasm.u32(o, outLen));
      });
    },
    denseOut(input: Uint32Array, batch: number, layer: DenseOutLayer, out: Float32Array): void {
      call(() => {
        const outLen = batch * layer.outC;
        const inp = wasm.put(input.subarray(0, batch * wordsForChannels(layer.inBits)));
        const o = wasm.alloc(outLen * 4);
        bindDenseOut(wasm, layer).run(inp, batch, o);
        out.set(wasm.f32(o, outLen));
      });
    },
    gemmDots(a: Uint32Array, m: number, kBits: number, b: Uint32Array, n: number, out: Int32Array): void {
      call(() => {
        const pa = wasm.put(a.subarray(0, m * wordsForChannels(kBits)));
        const o = wasm.alloc(m * n * 4);
        bindGemm(wasm, b, n, kBits).run(pa, m, o);
        out.set(wasm.i32(o, m * n));
      });
    },
  };
}
