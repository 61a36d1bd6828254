// The op builder every exported architecture uses: inputs, initializers (the weights) and nodes are
// added in execution order, each named once, and the builder checks as it goes that a node reads
// only values that exist by then, so that a mistake in an architecture's graph is an error here,
// with the node's name, rather than a file the runtimes refuse. An architecture's forward is a
// function over this builder (see resnet.ts); the encoding (onnx-proto.ts) knows none of them.
import { FinetorchError } from '../base/errors';
import { DType, HostTensor } from '../base/tensor';
import { AttributeValue, Dim, GraphProto, NodeProto, ValueInfoProto } from './onnx-proto';

export type { AttributeValue, Dim } from './onnx-proto';

/** Attribute values by ONNX type: `{ group: attr.int(32), epsilon: attr.float(1e-5), strides: attr.ints([2, 2]) }`. */
export const attr = {
  int: (value: number): AttributeValue => ({ type: 'int', value }),
  float: (value: number): AttributeValue => ({ type: 'float', value }),
  ints: (value: readonly number[]): AttributeValue => ({ type: 'ints', value }),
};

export class GraphBuilder {
  readonly #nodes: NodeProto[] = [];
  readonly #initializers = new Map<string, HostTensor>();
  readonly #inputs: ValueInfoProto[] = [];
  readonly #outputs: ValueInfoProto[] = [];
  /** Every value name in use: inputs, initializers and node outputs. */
  readonly #values = new Set<string>();
  readonly #nodeNames = new Set<string>();

  constructor(readonly name: string) {}

  /** A graph input; returns its name. */
  input(name: string, dtype: DType, shape: readonly Dim[]): string {
    this.#claimValue(name);
    this.#inputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  /** A constant the nodes read (a weight); returns its name. */
  initializer(name: string, tensor: HostTensor): string {
    this.#claimValue(name);
    this.#initializers.set(name, tensor);
    return name;
  }

  /**
   * One node with one output; returns the output's name. `name` is made unique (torchvision reuses
   * one ReLU module three times in a Bottleneck: relu, relu_1, relu_2); the output is named after
   * the node unless `output` names it.
   */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue>, options: { name: string; output?: string }): string {
    const name = this.#uniqueNodeName(options.name);
    const missing = inputs.find((input) => !this.#values.has(input));
    if (missing !== undefined) throw graphError(this.name, `node '${name}' (${opType}) reads '${missing}', which no earlier node or initializer makes`);
    const output = options.output ?? name;
    this.#claimValue(output);
    this.#nodes.push({ inputs: [...inputs], outputs: [output], name, opType, attributes });
    return output;
  }

  /** Declares a node's output a graph output. */
  output(value: string, dtype: DType, shape: readonly Dim[]): void {
    if (!this.#nodes.some((n) => n.outputs.includes(value))) throw graphError(this.name, `output '${value}' is made by no node`);
    this.#outputs.push({ name: value, dtype, shape: [...shape] });
  }

  build(): GraphProto {
    if (this.#outputs.length === 0) throw graphError(this.name, 'the graph has no output');
    return { name: this.name, nodes: this.#nodes, initializers: this.#initializers, inputs: this.#inputs, outputs: this.#outputs };
  }

  #claimValue(name: string): void {
    if (name === '') throw graphError(this.name, 'a value needs a name');
    if (this.#values.has(name)) throw graphError(this.name, `the name '${name}' is given twice`);
    this.#values.add(name);
  }

  /** `wanted`, or the first of wanted_1, wanted_2, ... that names neither a node nor a value. */
  #uniqueNodeName(wanted: string): string {
    let name = wanted;
    for (let i = 1; this.#nodeNames.has(name) || this.#values.has(name); i++) name = `${wanted}_${i}`;
    this.#nodeNames.add(name);
    return name;
  }
}

function graphError(graph: string, message: string): FinetorchError {
  return new FinetorchError('ERR_FINETORCH_ONNX', `ONNX graph '${graph}': ${message}`);
}
