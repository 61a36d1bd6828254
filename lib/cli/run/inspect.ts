// finetorch inspect, the work: what a .pth or .safetensors holds (container format, keys, dtypes,
// shapes, sizes, parameter count, the model and its print(model)), read by the TypeScript codecs
// alone, so it works without LibTorch (which, where it loads, only says how its PyTorch prints modules).
import * as fs from 'node:fs/promises';
import { elementSize, numel } from '../../base/tensor';
import { InferredModel, inferModel } from '../../model/infer';
import { reprStyle } from '../../model/module-tree';
import { weightsFormat } from '../../model/weights-file';
import { pthFormat, readPth, stateDictFrom } from '../../pth';
import { hostDTypeOf, readSafetensorsHeader } from '../../safetensors';
import { requireFile } from '../files';
import { cardFile, readCard } from '../model-card';
import type { InspectSettings } from '../settings';
import { table } from '../table';

const BUFFER = /(^|\.)(running_mean|running_var|num_batches_tracked)$/;

/** Prints what `file` holds; resolves to the exit code. */
export async function inspect({ file, json }: InspectSettings): Promise<number> {
  await requireFile(file, 'weights file');
  const { format, tensors, metadata } = await contents(file);
  const dtypes: Record<string, number> = {};
  for (const t of tensors) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  const sum = (list: typeof tensors, field: 'numel' | 'bytes') => list.reduce((a, t) => a + t[field], 0);
  const card = await readCard(file);
  const model = modelOf(new Map(tensors.map((t) => [t.key, t])), file);
  const repr = model?.repr(reprStyle(await torchVersion()));
  const result = {
    file, format, fileBytes: (await fs.stat(file)).size,
    family: model?.family ?? null, arch: model?.arch ?? null, numClasses: model?.numClasses ?? null, tensors, dtypes,
    parameters: sum(tensors.filter((t) => !BUFFER.test(t.key)), 'numel'),
    buffers: sum(tensors.filter((t) => BUFFER.test(t.key)), 'numel'),
    tensorBytes: sum(tensors, 'bytes'),
    metadata: metadata ? Object.fromEntries(metadata) : null,
    card: card ?? null,
    repr: repr ?? null,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  process.stdout.write([
    `${file}: ${FORMAT_NAMES[format]} format, ${bytes(result.fileBytes)}`,
    ...(metadata?.size ? [`metadata: ${[...metadata].map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`] : []),
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

const FORMAT_NAMES = { zip: 'zip (torch.save since 1.6)', legacy: 'legacy (torch.save before 1.6)', safetensors: 'safetensors' };

interface TensorRow { key: string; dtype: string; shape: number[]; numel: number; bytes: number }

/** The file's format, its tensors (a checkpoint's state dict), and a safetensors file's metadata. */
async function contents(file: string): Promise<{ format: keyof typeof FORMAT_NAMES; tensors: TensorRow[]; metadata?: Map<string, string> }> {
  if ((await weightsFormat(file)) === 'safetensors') {
    const header = await readSafetensorsHeader(file);
    const tensors = header.tensors.map((t) => ({
      key: t.name, dtype: hostDTypeOf(t.dtype) ?? t.dtype, shape: t.shape, numel: numel(t.shape), bytes: t.dataOffsets[1] - t.dataOffsets[0],
    }));
    return { format: 'safetensors', tensors, metadata: header.metadata };
  }
  const { format } = await pthFormat(file);
  const tensors = [...stateDictFrom(await readPth(file))].map(([key, t]) => ({
    key, dtype: t.dtype as string, shape: t.shape, numel: numel(t.shape), bytes: numel(t.shape) * elementSize(t.dtype),
  }));
  return { format, tensors };
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
  return import('../../base/binding').then((b) => b.native.runtime.torchVersion, () => '2.12');
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
