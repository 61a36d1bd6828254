// A torchvision ResNet's eval-mode forward as ONNX nodes, walking the module tree of
// lib/model/resnet-architectures.ts (names, layer arguments) with the weights of its state dict: the stem
// (conv1, bn1, relu, maxpool), layer1..layer4's blocks, avgpool, flatten and fc (a Linear, or MAE's
// probe head: head-onnx.ts), as ResNet.forward, BasicBlock.forward and Bottleneck.forward run them.
// Each Conv2d + BatchNorm2d pair becomes one Conv with the BatchNorm folded in, or a Conv and a
// BatchNormalization.
import type { HeadKind } from './model';
import type { ModuleNode } from './module-tree';
import { headGraph } from './head-onnx';
import { ARCHITECTURES, Arch, resnetTree } from './resnet-architectures';
import { FinetorchError } from '../base/errors';
import { HostTensor } from '../base/tensor';
import { foldBatchNorm } from '../export/batch-norm';
import type { GraphOptions, OnnxSource } from '../export/export';
import { GraphBuilder, attr } from '../export/graph';
import { float32Weight } from '../export/state-weights';

/**
 * A torchvision ResNet for exportOnnx; `stateDict` gives a copy of the weights that the export may
 * change (BatchNorm is folded into it in place).
 */
export function resnetSource(arch: Arch, numClasses: number, head: HeadKind, stateDict: () => Promise<Map<string, HostTensor>>): OnnxSource {
  return {
    arch,
    numClasses,
    graph: async (options) => resnetGraph(resnetTree(ARCHITECTURES[arch], numClasses), await stateDict(), numClasses, head, options),
  };
}

/** The graph of `tree` (resnetTree's) with the weights of `state` (the model's state dict) and a head of kind `head`. */
export async function resnetGraph(
  tree: ModuleNode, state: ReadonlyMap<string, HostTensor>, numClasses: number, head: HeadKind, options: GraphOptions,
): Promise<GraphBuilder> {
  const g = new GraphBuilder(options.name);
  const weight = (key: string): HostTensor<'float32'> => float32Weight(state, key);
  const child = (node: ModuleNode, name: string): ModuleNode => {
    const found = node.children.find((c) => c.name === name);
    if (!found) throw treeError(`${node.kind} has no '${name}'`);
    return found;
  };

  const convBn = (conv: ModuleNode, bn: ModuleNode, prefix: string, x: string): string => {
    const convLayer = conv.layer;
    const bnLayer = bn.layer;
    if (convLayer?.type !== 'Conv2d' || bnLayer?.type !== 'BatchNorm2d') throw treeError(`${prefix}${conv.name} is no Conv2d + BatchNorm2d`);
    const convName = `${prefix}${conv.name}`;
    const bnName = `${prefix}${bn.name}`;
    const attributes = {
      dilations: attr.ints([1, 1]),
      group: attr.int(convLayer.groups),
      kernel_shape: attr.ints([convLayer.kernel, convLayer.kernel]),
      pads: attr.ints([convLayer.padding, convLayer.padding, convLayer.padding, convLayer.padding]),
      strides: attr.ints([convLayer.stride, convLayer.stride]),
    };
    const bnState = {
      weight: weight(`${bnName}.weight`).data, bias: weight(`${bnName}.bias`).data,
      runningMean: weight(`${bnName}.running_mean`).data, runningVar: weight(`${bnName}.running_var`).data, eps: bnLayer.eps,
    };
    if (options.foldBatchNorm) {
      const convWeight = weight(`${convName}.weight`);
      const bias = foldBatchNorm(convWeight, bnState);
      const w = g.initializer(`${convName}.weight`, convWeight);
      const b = g.initializer(`${convName}.bias`, bias);
      return g.op('Conv', [x, w, b], attributes, { name: convName });
    }
    const y = g.op('Conv', [x, g.initializer(`${convName}.weight`, weight(`${convName}.weight`))], attributes, { name: convName });
    const inputs = ['weight', 'bias', 'running_mean', 'running_var'].map((key) => g.initializer(`${bnName}.${key}`, weight(`${bnName}.${key}`)));
    return g.op('BatchNormalization', [y, ...inputs], { epsilon: attr.float(bnLayer.eps) }, { name: bnName });
  };

  // BasicBlock: conv1 bn1 relu conv2 bn2; Bottleneck: conv1 bn1 relu conv2 bn2 relu conv3 bn3;
  // then + identity (or downsample(x)), relu.
  const block = (node: ModuleNode, prefix: string, x: string): string => {
    const convs = node.kind === 'Bottleneck' ? [1, 2, 3] : [1, 2];
    let y = x;
    for (const i of convs) {
      y = convBn(child(node, `conv${i}`), child(node, `bn${i}`), prefix, y);
      if (i < convs.length) y = g.op('Relu', [y], {}, { name: `${prefix}relu` });
    }
    const downsample = node.children.find((c) => c.name === 'downsample');
    const identity = downsample ? convBn(child(downsample, '0'), child(downsample, '1'), `${prefix}downsample.`, x) : x;
    return g.op('Relu', [g.op('Add', [y, identity], {}, { name: `${prefix}add` })], {}, { name: `${prefix}relu` });
  };

  const [batch, channels, height, width] = options.inputShape;
  let x = g.input(options.inputName, 'float32', [batch, channels, height, width]);
  x = convBn(child(tree, 'conv1'), child(tree, 'bn1'), '', x);
  x = g.op('Relu', [x], {}, { name: 'relu' });
  const pool = child(tree, 'maxpool').layer;
  if (pool?.type !== 'MaxPool2d') throw treeError('maxpool is no MaxPool2d');
  x = g.op('MaxPool', [x], {
    kernel_shape: attr.ints([pool.kernel, pool.kernel]),
    pads: attr.ints([pool.padding, pool.padding, pool.padding, pool.padding]),
    strides: attr.ints([pool.stride, pool.stride]),
  }, { name: 'maxpool' });
  for (const layer of [1, 2, 3, 4]) {
    for (const node of child(tree, `layer${layer}`).children) {
      x = block(node, `layer${layer}.${node.name}.`, x);
      // Folding walks every weight in JavaScript: let other work run between blocks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  // AdaptiveAvgPool2d((1, 1)) is a global average; ResNet.forward flattens before fc.
  x = g.op('GlobalAveragePool', [x], {}, { name: 'avgpool' });
  x = g.op('Flatten', [x], { axis: attr.int(1) }, { name: 'flatten' });
  const logits = headGraph(g, state, 'fc', head, x, { foldBatchNorm: options.foldBatchNorm, output: options.outputName });
  g.output(logits, 'float32', [batch, numClasses]);
  return g;
}

/** The module tree does not have the shape this forward walks. */
function treeError(message: string): FinetorchError {
  return new FinetorchError('ERR_FINETORCH_ONNX', `ONNX export: the ResNet module tree: ${message}`);
}
