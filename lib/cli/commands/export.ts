// finetorch export, its interface: flags, their checks and help. The export (LibTorch) lives in
// run/export.ts, loaded once the flags are right.
import * as path from 'node:path';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from '../../export/opset';
import { Command, CommandSpec, Parsed, UsageError } from '../args';
import { ARCH_OPTION, INFERENCE_OPTIONS, WEIGHTS_OPTION, archFlag, imageSizeFlag } from './model-flags';
import { weightsFlag } from '../weights-source';

const spec: CommandSpec = {
  name: 'export',
  usage: ['export --weights WEIGHTS --out FILE.onnx [options]'],
  options: {
    weights: WEIGHTS_OPTION,
    out: { type: 'string', value: 'FILE.onnx', help: 'the ONNX file to write (replaced whole, or left as it was if the export fails)' },
    arch: ARCH_OPTION,
    'image-size': INFERENCE_OPTIONS['image-size'],
    opset: { type: 'string', value: 'N', help: `the ai.onnx operator set, ${MIN_OPSET} to ${MAX_OPSET}`, default: String(DEFAULT_OPSET) },
    'batch-norm': { type: 'string', value: 'fold|keep', help: "fold each BatchNorm into the Conv before it (MAE's probe head's into its Linear), or keep BatchNormalization nodes", default: 'fold' },
    'batch-size': { type: 'string', value: 'N', help: "fix the batch dimension at N (default: dynamic, named 'batch')" },
    'input-name': { type: 'string', value: 'NAME', help: "the graph input's name", default: 'input' },
    'output-name': { type: 'string', value: 'NAME', help: "the graph output's name", default: 'logits' },
  },
  notes: [
    'The model runs in eval mode: input [batch, 3, S, S] float32, output [batch, classes] logits. Class names and the eval ' +
      'transform come from the .json beside a weights file (finetorch train writes one beside every .pth), from config.json for ' +
      "an hf-hub: id (timm's transform and label names), or torchvision's transform for a torchvision name; without any, class " +
      'names come from a classes.json there, else none are recorded, and the transform is torchvision\'s at --image-size.',
    "The file's metadata_props record arch, classes (JSON) and preprocessing (JSON: resize [h, w] or the shorter side, interpolation, centerCrop, " +
      'mean, std); readOnnxMetadata(file) reads them in Node, onnx.load(file).metadata_props in Python.',
  ],
};

async function run({ flags }: Parsed): Promise<number> {
  const opset = flags.int('opset');
  if (opset < MIN_OPSET || opset > MAX_OPSET) throw new UsageError(`--opset must be between ${MIN_OPSET} and ${MAX_OPSET}, got '${opset}'`);
  return (await import('../run/export')).exportModel({
    weights: weightsFlag(flags),
    out: path.resolve(flags.required('out')),
    arch: archFlag(flags),
    imageSize: imageSizeFlag(flags),
    opset,
    foldBatchNorm: flags.choice('batch-norm', ['fold', 'keep']) === 'fold',
    batchSize: flags.has('batch-size') ? flags.int('batch-size') : undefined,
    inputName: flags.required('input-name'),
    outputName: flags.required('output-name'),
  });
}

export const command: Command = { spec, run };
