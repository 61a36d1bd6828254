// The torchvision ResNet family as data: each architecture's constructor arguments, the module
// tree they build (names, state_dict shapes, and how print(model) shows each module), and the
// architecture a state dict was saved from, read off its keys and shapes.
import { FinetorchError } from '../base/errors';
import { ModuleNode, ReprStyle, container, leaf, reprStyle } from './module-tree';

export const ARCHITECTURES = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2], groups: 1, widthPerGroup: 64 },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3], groups: 1, widthPerGroup: 64 },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3], groups: 1, widthPerGroup: 64 },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3], groups: 1, widthPerGroup: 64 },
  resnet152: { block: 'bottleneck', layers: [3, 8, 36, 3], groups: 1, widthPerGroup: 64 },
  resnext50_32x4d: { block: 'bottleneck', layers: [3, 4, 6, 3], groups: 32, widthPerGroup: 4 },
  resnext101_32x8d: { block: 'bottleneck', layers: [3, 4, 23, 3], groups: 32, widthPerGroup: 8 },
  resnext101_64x4d: { block: 'bottleneck', layers: [3, 4, 23, 3], groups: 64, widthPerGroup: 4 },
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6, 3], groups: 1, widthPerGroup: 128 },
  wide_resnet101_2: { block: 'bottleneck', layers: [3, 4, 23, 3], groups: 1, widthPerGroup: 128 },
} as const satisfies Record<string, ResNetConfig>;

export type Arch = keyof typeof ARCHITECTURES;
export const ARCH_NAMES = Object.keys(ARCHITECTURES) as Arch[];

/** torchvision's ResNet(block, layers, groups, width_per_group). */
export interface ResNetConfig {
  block: 'basic' | 'bottleneck';
  layers: readonly [number, number, number, number];
  groups: number;
  widthPerGroup: number;
}

/** What fc sees: 512 for basic blocks, 2048 for bottlenecks. */
export function featuresOf(config: ResNetConfig): number {
  return config.block === 'basic' ? 512 : 2048;
}

function conv(name: string, cin: number, cout: number, kernel: number, stride: number, padding: number, groups = 1): ModuleNode {
  const text = `Conv2d(${cin}, ${cout}, kernel_size=(${kernel}, ${kernel}), stride=(${stride}, ${stride})` +
    `${padding ? `, padding=(${padding}, ${padding})` : ''}${groups > 1 ? `, groups=${groups}` : ''}, bias=False)`;
  return leaf(name, text, [['weight', [cout, cin / groups, kernel, kernel]]], { type: 'Conv2d', kernel, stride, padding, groups });
}

function bn(name: string, channels: number, style: ReprStyle): ModuleNode {
  const bias = style.batchNormBias ? ', bias=True' : '';
  return leaf(name, `BatchNorm2d(${channels}, eps=1e-05, momentum=0.1, affine=True${bias}, track_running_stats=True)`, [
    ['weight', [channels]], ['bias', [channels]], ['running_mean', [channels]], ['running_var', [channels]], ['num_batches_tracked', []],
  ], { type: 'BatchNorm2d', eps: 1e-5 });
}

const relu = (): ModuleNode => leaf('relu', 'ReLU(inplace=True)', [], { type: 'ReLU' });

export function linear(name: string, inFeatures: number, outFeatures: number): ModuleNode {
  return leaf(name, `Linear(in_features=${inFeatures}, out_features=${outFeatures}, bias=True)`, [
    ['weight', [outFeatures, inFeatures]], ['bias', [outFeatures]],
  ], { type: 'Linear' });
}

/**
 * The module tree torchvision builds for `config` with `numClasses` outputs; `style` only changes
 * the repr text (by default, current PyTorch's).
 */
export function resnetTree(config: ResNetConfig, numClasses: number, style: ReprStyle = reprStyle('2.14')): ModuleNode {
  const expansion = config.block === 'basic' ? 1 : 4;
  let inplanes = 64;
  const layer = (index: number, planes: number, blocks: number, stride: number): ModuleNode => {
    const children: ModuleNode[] = [];
    for (let i = 0; i < blocks; i++) {
      const s = i === 0 ? stride : 1;
      const downsample = i === 0 && (stride !== 1 || inplanes !== planes * expansion)
        ? container('downsample', 'Sequential', [conv('0', inplanes, planes * expansion, 1, stride, 0), bn('1', planes * expansion, style)])
        : undefined;
      let parts: ModuleNode[];
      if (config.block === 'basic') {
        parts = [conv('conv1', inplanes, planes, 3, s, 1), bn('bn1', planes, style), relu(), conv('conv2', planes, planes, 3, 1, 1), bn('bn2', planes, style)];
      } else {
        const width = Math.trunc(planes * (config.widthPerGroup / 64)) * config.groups;
        parts = [
          conv('conv1', inplanes, width, 1, 1, 0), bn('bn1', width, style), conv('conv2', width, width, 3, s, 1, config.groups), bn('bn2', width, style),
          conv('conv3', width, planes * 4, 1, 1, 0), bn('bn3', planes * 4, style), relu(),
        ];
      }
      children.push(container(String(i), config.block === 'basic' ? 'BasicBlock' : 'Bottleneck', downsample ? [...parts, downsample] : parts));
      inplanes = planes * expansion;
    }
    return container(`layer${index}`, 'Sequential', children);
  };
  return container('', 'ResNet', [
    conv('conv1', 3, 64, 7, 2, 3), bn('bn1', 64, style), relu(),
    leaf('maxpool', 'MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)', [], { type: 'MaxPool2d', kernel: 3, stride: 2, padding: 1 }),
    layer(1, 64, config.layers[0], 1), layer(2, 128, config.layers[1], 2),
    layer(3, 256, config.layers[2], 2), layer(4, 512, config.layers[3], 2),
    leaf('avgpool', 'AdaptiveAvgPool2d(output_size=(1, 1))', [], { type: 'AdaptiveAvgPool2d', outputSize: 1 }),
    linear('fc', featuresOf(config), numClasses),
  ]);
}

/** The architecture and class count a state dict (keys -> shapes) was saved from. */
export function inferArch(shapes: ReadonlyMap<string, readonly number[]>, source: string): { arch: Arch; numClasses: number } {
  const fc = shapes.get('fc.weight');
  if (!fc || fc.length !== 2) throw archError(source, "it has no 2-d 'fc.weight', so it is not a torchvision ResNet state dict");
  const layers = [1, 2, 3, 4].map((l) => {
    const blocks = new Set<number>();
    for (const key of shapes.keys()) {
      const m = new RegExp(`^layer${l}\\.(\\d+)\\.`).exec(key);
      if (m) blocks.add(Number(m[1]));
    }
    return blocks.size;
  });
  const bottleneck = shapes.has('layer1.0.conv3.weight');
  const conv2 = shapes.get('layer1.0.conv2.weight');
  const width = conv2?.[0] ?? 0;
  const groups = conv2 && conv2[1] > 0 ? width / conv2[1] : 0;
  const found = { block: bottleneck ? 'bottleneck' : 'basic', layers, groups, widthPerGroup: bottleneck && groups ? width / groups : 64 };
  const arch = ARCH_NAMES.find((name) => {
    const c = ARCHITECTURES[name];
    return c.block === found.block && c.layers.every((n, i) => n === layers[i]) &&
      (c.block === 'basic' || (c.groups === found.groups && c.widthPerGroup === found.widthPerGroup));
  });
  if (!arch) {
    throw archError(source, `its keys and shapes (${found.block} blocks ${JSON.stringify(layers)}` +
      `${bottleneck ? `, groups ${found.groups}, width per group ${found.widthPerGroup}` : ''}) match none of ${ARCH_NAMES.join(', ')}`);
  }
  return { arch, numClasses: fc[0] };
}

function archError(source: string, reason: string): FinetorchError {
  return new FinetorchError('ERR_FINETORCH_STATE_DICT', `${source}: ${reason}`);
}
