// finetorch inspect: what a .pth holds (container format, keys, dtypes, shapes, sizes, parameter
// count, the model and its print(model)), read by the TypeScript codec alone, so it works without
// LibTorch (which, where it loads, only says how its PyTorch prints modules).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { reprStyle } from '../architectures';
import { InferredModel, inferModel } from '../model/infer';
import { pthFormat, readPth, stateDictFrom } from '../pth';
import { elementSize, numel } from '../tensor';
import { CommandSpec, Parsed } from './args';
import { requireFile } from './files';
import { cardFile, readCard } from './model-card';
import type { Command } from './main';
import { table } from './table';

const spec: CommandSpec = {
  name: 'inspect',
  usage: ['inspect [--json] FILE.pth'],
  positionals: { min: 1, max: 1 },
  options: {
    json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  },
  notes: [
    "A checkpoint's state dict is the one under 'model' or 'state_dict'. Parameters exclude BatchNorm's " +
      'running statistics (running_mean, running_var, num_batches_tracked), counted as buffers.',
    'The .json that finetorch train writes beside each .pth (architecture, classes, image size, eval transform) is shown too.',
    'A ResNet or ViT state dict is also shown as print(model) shows it (timm\'s classes for a ViT, in the repr of the PyTorch of ' +
      "finetorch's LibTorch; of PyTorch 2.12 where LibTorch does not load).",
    '--json prints {file, format, fileBytes, family (resnet, vit, or null: neither), arch, numClasses (null when neither, or a ViT without a head), ' +
      'tensors: [{key, dtype, shape, numel, bytes}], dtypes: {dtype: count}, ' +
      'parameters, buffers, tensorBytes, card (the .json beside it, or null), repr (print(model), or null)}.',
  ],
};

const BUFFER = /(^|\.)(running_mean|running_var|num_batches_tracked)$/;

async function run({ flags, positionals }: Parsed): Promise<number> {
  const file = path.resolve(positionals[0]);
  const json = flags.flag('json');
  await requireFile(file, '.pth file');
  const { format } = await pthFormat(file);
  const stateDict = stateDictFrom(await readPth(file));
  const tensors = [...stateDict].map(([key, t]) => ({
    key, dtype: t.dtype, shape: t.shape, numel: numel(t.shape), bytes: numel(t.shape) * elementSize(t.dtype),
  }));
  const dtypes: Record<string, number> = {};
  for (const t of tensors) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  const sum = (list: typeof tensors, field: 'numel' | 'bytes') => list.reduce((a, t) => a + t[field], 0);
  const card = await readCard(file);
  const model = modelOf(stateDict, file);
  const repr = model && model.repr(reprStyle(await torchVersion()));
  const result = {
    file, format, fileBytes: (await fs.stat(file)).size,
    family: model?.family ?? null, arch: model?.arch ?? null, numClasses: model?.numClasses ?? null, tensors, dtypes,
    parameters: sum(tensors.filter((t) => !BUFFER.test(t.key)), 'numel'),
    buffers: sum(tensors.filter((t) => BUFFER.test(t.key)), 'numel'),
    tensorBytes: sum(tensors, 'bytes'),
    card: card ?? null,
    repr: repr ?? null,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  process.stdout.write([
    `${file}: ${format === 'zip' ? 'zip (torch.save since 1.6)' : 'legacy (torch.save before 1.6)'} format, ${bytes(result.fileBytes)}`,
    `${tensors.length} tensors (${Object.entries(dtypes).map(([d, n]) => `${n} ${d}`).join(', ')}), ` +
      `${result.parameters.toLocaleString('en-US')} parameters, ${result.buffers.toLocaleString('en-US')} in buffers, ${bytes(result.tensorBytes)}`,
    model ? `${model.family === 'resnet' ? 'torchvision' : 'timm'} ${model.arch}, ${model.numClasses === undefined ? 'no head' : `${model.numClasses} classes`}`
      : 'neither a torchvision ResNet nor a ViT state dict',
    ...(card ? [`${cardFile(file)}: ${card.arch}, ${card.numClasses} classes (${card.classes.join(', ')}), trained at ${card.imageSize} px`] : []),
    '',
    table([['key', 'dtype', 'shape', 'size'], ...tensors.map((t) => [t.key, t.dtype, `[${t.shape.join(', ')}]`, bytes(t.bytes)])],
      [false, false, false, true]),
    '',
    ...(repr ? [repr, ''] : []),
  ].join('\n'));
  return 0;
}

/** The model a state dict was saved from, or undefined when its keys and shapes are neither a ResNet's nor a ViT's. */
function modelOf(stateDict: Map<string, { shape: number[] }>, file: string): InferredModel | undefined {
  try {
    return inferModel(new Map([...stateDict].map(([k, t]) => [k, t.shape])), file);
  } catch {
    return undefined;
  }
}

/** The PyTorch release of finetorch's LibTorch; where the addon does not load, the newest repr finetorch knows (2.12's). */
async function torchVersion(): Promise<string> {
  return import('../binding').then((b) => b.native.runtime.torchVersion, () => '2.12');
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

export const command: Command = { spec, run };
