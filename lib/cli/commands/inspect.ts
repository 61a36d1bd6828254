// finetorch inspect, its interface: the file and --json, and help. The reading lives in
// run/inspect.ts (the TypeScript codecs alone: inspect works without LibTorch).
import * as path from 'node:path';
import { Command, CommandSpec, Parsed } from '../args';

const spec: CommandSpec = {
  name: 'inspect',
  usage: ['inspect [--json] FILE.pth|FILE.safetensors'],
  positionals: { min: 1, max: 1, what: 'the .pth or .safetensors FILE to inspect' },
  options: {
    json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  },
  notes: [
    "A checkpoint's state dict is the one under 'model' or 'state_dict'. Parameters exclude BatchNorm's " +
      'running statistics (running_mean, running_var, num_batches_tracked), counted as buffers.',
    'The format is read off the content, not the name. A .safetensors file is read by its header alone; its dtypes ' +
      "are torch's names where finetorch holds them (F8_E4M3 and the like are shown as the format names them).",
    'The .json that finetorch train writes beside each .pth (architecture, classes, image size, eval transform) is shown too.',
    'A ResNet or ViT state dict is also shown as print(model) shows it (timm\'s classes for a ViT, in the repr of the PyTorch of ' +
      "finetorch's LibTorch; of PyTorch 2.12 where LibTorch does not load).",
    "--json prints {file, format ('zip', 'legacy' or 'safetensors'), fileBytes, family (resnet, vit, or null: neither), arch, " +
      'numClasses (null when neither, or a ViT without a head), ' +
      'tensors: [{key, dtype, shape, numel, bytes}], dtypes: {dtype: count}, ' +
      'parameters, buffers, tensorBytes, metadata (safetensors: its __metadata__; else null), card (the .json beside it, or null), ' +
      'repr (print(model), or null)}.',
  ],
};

async function run({ flags, positionals }: Parsed): Promise<number> {
  return (await import('../run/inspect')).inspect({ file: path.resolve(positionals[0]), json: flags.flag('json') });
}

export const command: Command = { spec, run };
