import { ProtoWriter } from './protobuf-writer';

/**
 * A small ONNX graph writer (field numbers of onnx/onnx.proto, IR version 8, default-domain
 * opset 13): what the full-precision model export (onnx-export.ts) and the training kernels on
 * onnxruntime (ort-kernels.ts) build their graphs with.
 */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;

const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

export type Attribute = { name: string } & ({ f: number } | { i: number } | { s: string } | { ints: number[] });

export class GraphBuilder {
  readonly nodes: ProtoWriter[] = [];
  readonly initializers: ProtoWriter[] = [];
  private counter = 0;

  fresh(base: string): string {
    return `${base}_${this.counter++}`;
  }

  /** Adds a node; its output is a fresh name unless `output` names it (a graph output). */
  node(opType: string, inputs: string[], name: string, attributes: Attribute[] = [], output = this.fresh(name)): string {
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1, i);
    n.string(2, output);
    n.string(3, output);
    n.string(4, opType);
    for (const a of attributes) n.message(5, attribute(a));
    this.nodes.push(n);
    return output;
  }

  constant(name: string, dims: number[], values: Float32Array): string {
    const t = new ProtoWriter();
    t.packedInts(1, dims);
    t.int(2, FLOAT);
    t.string(8, name);
    t.bytes(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    this.initializers.push(t);
    return name;
  }

  /** An int64 initializer (shapes, Slice bounds). */
  ints(name: string, values: number[]): string {
    const t = new ProtoWriter();
    t.packedInts(1, [values.length]);
    t.int(2, INT64);
    t.string(8, name);
    const raw = BigInt64Array.from(values.map(BigInt));
    t.bytes(9, new Uint8Array(raw.buffer));
    this.initializers.push(t);
    return name;
  }

  /** The ModelProto bytes of the nodes so far, with these graph inputs and outputs (float32). */
  model(name: string, inputs: [string, Array<number | string>][], outputs: [string, Array<number | string>][], producerVersion = '0.1.0'): Uint8Array {
    const graph = new ProtoWriter();
    for (const n of this.nodes) graph.message(1, n);
    graph.string(2, name);
    for (const t of this.initializers) graph.message(5, t);
    for (const [n, d] of inputs) graph.message(11, valueInfo(n, d));
    for (const [n, d] of outputs) graph.message(12, valueInfo(n, d));
    return new ProtoWriter()
      .int(1, ONNX_IR_VERSION)
      .string(2, 'cbnn')
      .string(3, producerVersion)
      .message(7, graph)
      .message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET))
      .finish();
  }
}

function attribute(a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if ('f' in a) w.float(2, a.f).int(20, ATTR_FLOAT);
  else if ('i' in a) w.int(3, a.i).int(20, ATTR_INT);
  else if ('s' in a) w.bytes(4, new TextEncoder().encode(a.s)).int(20, ATTR_STRING);
  else w.packedInts(8, a.ints).int(20, ATTR_INTS);
  return w;
}

function valueInfo(name: string, dims: Array<number | string>): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}
