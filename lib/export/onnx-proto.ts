// ONNX's messages (onnx/onnx.proto, proto2) as plain objects, and their encoding. Only the fields a
// model made of nodes, initializers and metadata needs; each is written in field-number order and
// repeated numbers unpacked, as proto2 and onnx's own SerializeToString write them, so that a file
// re-serialised by Python's onnx comes back byte for byte.
import { DType, HostTensor } from '../base/tensor';
import { ProtoWriter } from './protobuf-writer';

/** TensorProto.DataType for each HostTensor dtype. */
const DATA_TYPES: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16,
};

/** AttributeProto.AttributeType. */
const ATTRIBUTE_TYPES = { float: 1, int: 2, ints: 7 } as const;

/** An attribute's value with its ONNX type: a number alone cannot tell 1 (INT) from 1.0 (FLOAT). */
export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'ints'; value: readonly number[] };

/** A dimension: a size, or the name of a size chosen at run time ('batch'). */
export type Dim = number | string;

export interface NodeProto {
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  opType: string;
  attributes: Readonly<Record<string, AttributeValue>>;
}

export interface ValueInfoProto {
  name: string;
  dtype: DType;
  shape: readonly Dim[];
}

export interface GraphProto {
  name: string;
  nodes: readonly NodeProto[];
  /** Initializers: the weights, each named as the nodes that read it. */
  initializers: ReadonlyMap<string, HostTensor>;
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
}

export interface ModelProto {
  irVersion: number;
  /** The default domain's (ai.onnx) operator set version. */
  opset: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: GraphProto;
  metadata: ReadonlyMap<string, string>;
}

/** The model as chunks to write in order (the weights' bytes by reference). */
export function encodeModel(model: ModelProto): Uint8Array[] {
  const out = new ProtoWriter()
    .int(1, model.irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .string(6, model.docString)
    .message(7, encodeGraph(model.graph))
    .message(8, new ProtoWriter().string(1, '').int(2, model.opset));
  for (const [key, value] of model.metadata) out.message(14, new ProtoWriter().string(1, key).string(2, value));
  return out.finish();
}

function encodeGraph(graph: GraphProto): ProtoWriter {
  const out = new ProtoWriter();
  for (const node of graph.nodes) out.message(1, encodeNode(node));
  out.string(2, graph.name);
  for (const [name, tensor] of graph.initializers) out.message(5, encodeTensor(name, tensor));
  for (const input of graph.inputs) out.message(11, encodeValueInfo(input));
  for (const output of graph.outputs) out.message(12, encodeValueInfo(output));
  return out;
}

function encodeNode(node: NodeProto): ProtoWriter {
  const out = new ProtoWriter();
  for (const input of node.inputs) out.string(1, input);
  for (const output of node.outputs) out.string(2, output);
  out.string(3, node.name).string(4, node.opType);
  for (const [name, attribute] of Object.entries(node.attributes)) out.message(5, encodeAttribute(name, attribute));
  return out;
}

function encodeAttribute(name: string, attribute: AttributeValue): ProtoWriter {
  const out = new ProtoWriter().string(1, name);
  switch (attribute.type) {
    case 'float':
      out.float(2, attribute.value);
      break;
    case 'int':
      out.int(3, attribute.value);
      break;
    case 'ints':
      for (const v of attribute.value) out.int(8, v);
      break;
  }
  return out.int(20, ATTRIBUTE_TYPES[attribute.type]);
}

/**
 * A TensorProto holding its elements as raw_data, row-major: the typed array's own bytes, which
 * ONNX reads as little-endian, as typed arrays are on x86-64 and arm64.
 */
function encodeTensor(name: string, tensor: HostTensor): ProtoWriter {
  const out = new ProtoWriter();
  for (const d of tensor.shape) out.int(1, d);
  const { buffer, byteOffset, byteLength } = tensor.data;
  return out.int(2, DATA_TYPES[tensor.dtype]).string(8, name).bytes(9, new Uint8Array(buffer, byteOffset, byteLength));
}

function encodeValueInfo(value: ValueInfoProto): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of value.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, DATA_TYPES[value.dtype]).message(2, shape);
  return new ProtoWriter().string(1, value.name).message(2, new ProtoWriter().message(1, tensorType));
}
