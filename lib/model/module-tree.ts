// A model's module tree as data, shared by the families (model/resnet-architectures.ts,
// model/vit-architectures.ts): each module's name, state_dict entries and print(model) text, and
// what a PyTorch release changes in that text.

/** One module of the tree: its repr line (leaves) or its children, and its state_dict entries. */
export interface ModuleNode {
  name: string;
  /** print(model)'s text for a leaf module, e.g. `Conv2d(3, 64, kernel_size=(7, 7), ...)`. */
  repr?: string;
  /** Container class name (`ResNet`, `Sequential`, `BasicBlock`, `VisionTransformer`, `Block`). */
  kind?: string;
  /** What a leaf computes, with the numbers its repr shows as text (the ResNet ONNX exporter's forward reads these). */
  layer?: Layer;
  children: ModuleNode[];
  state: [string, number[]][];
}

/** A leaf module's operation: its torch.nn class and the arguments it was built with. */
export type Layer =
  | { type: 'Conv2d'; kernel: number; stride: number; padding: number; groups: number }
  | { type: 'BatchNorm2d'; eps: number }
  | { type: 'ReLU' }
  | { type: 'MaxPool2d'; kernel: number; stride: number; padding: number }
  | { type: 'AdaptiveAvgPool2d'; outputSize: 1 }
  | { type: 'Linear' };

export const leaf = (name: string, repr: string, state: [string, number[]][] = [], layer?: Layer): ModuleNode =>
  (layer ? { name, repr, layer, children: [], state } : { name, repr, children: [], state });

export const container = (name: string, kind: string, children: ModuleNode[], state: [string, number[]][] = []): ModuleNode =>
  ({ name, kind, children, state });

/**
 * What print(model) writes differs between PyTorch releases; finetorch writes what the PyTorch of
 * its LibTorch writes. PyTorch 2.12 added `bias=` to the repr of the batch norms (pytorch#176573);
 * LayerNorm shows `bias=` since its `bias` argument came, in PyTorch 2.1.
 */
export interface ReprStyle {
  batchNormBias: boolean;
  layerNormBias: boolean;
}

/** The repr style of PyTorch `torchVersion` ('1.13.0', '2.14.1+cu130'). */
export function reprStyle(torchVersion: string): ReprStyle {
  const [major, minor] = torchVersion.split('.').map((n) => parseInt(n, 10));
  const since = (m: number) => major > 2 || (major === 2 && minor >= m);
  return { batchNormBias: since(12), layerNormBias: since(1) };
}

/** Every state_dict key of the tree with its shape, in PyTorch's order. */
export function stateShapes(node: ModuleNode, prefix = ''): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const visit = (n: ModuleNode, path: string) => {
    for (const [key, shape] of n.state) out.set(`${path}${key}`, shape);
    for (const child of n.children) visit(child, `${path}${child.name}.`);
  };
  visit(node, prefix);
  return out;
}

/** print(model)'s text for the tree. */
export function moduleRepr(node: ModuleNode, indent = ''): string {
  if (node.repr !== undefined) return node.repr;
  const inner = `${indent}  `;
  const lines = node.children.map((c) => `${inner}(${c.name}): ${moduleRepr(c, inner)}`);
  return `${node.kind}(\n${lines.join('\n')}\n${indent})`;
}

/** print()'s text of MAE's probe BatchNorm1d(features, affine=False, eps=1e-6). */
export function maeProbeNorm(features: number, style: ReprStyle): string {
  return `BatchNorm1d(${features}, eps=1e-06, momentum=0.1, affine=False${style.batchNormBias ? ', bias=True' : ''}, track_running_stats=True)`;
}

/**
 * `tree` with its head `name` replaced by MAE's linear-probe head (main_linprobe.py):
 * Sequential(BatchNorm1d(features, affine=False, eps=1e-6), Linear(features, classes)).
 */
export function withMaeProbeHead(tree: ModuleNode, name: string, features: number, classes: number, style: ReprStyle): ModuleNode {
  const probe = container(name, 'Sequential', [
    leaf('0', maeProbeNorm(features, style), [['running_mean', [features]], ['running_var', [features]], ['num_batches_tracked', []]]),
    leaf('1', `Linear(in_features=${features}, out_features=${classes}, bias=True)`, [['weight', [classes, features]], ['bias', [classes]]]),
  ]);
  return { ...tree, children: tree.children.map((c) => (c.name === name ? probe : c)) };
}
