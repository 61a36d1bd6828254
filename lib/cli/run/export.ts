// finetorch export, the work: the weights loaded with what the card (or classes.json) beside them
// says, written as ONNX with that preprocessing and those class names in the file's metadata.
import * as fs from 'node:fs';
import type { ExportSettings } from '../settings';
import { loadInferenceModel } from '../inference-model';
import { ResNet } from '../../model/resnet';

/** Exports and prints what was written; resolves to the exit code. */
export async function exportModel(o: ExportSettings): Promise<number> {
  const warn = (message: string) => process.stderr.write(`${message}\n`);
  const model = await loadInferenceModel(o.weights, { device: 'cpu', arch: o.arch, imageSize: o.imageSize }, warn);
  const { net } = model;
  try {
    if (!model.classes) warn(`no .json or classes.json beside ${o.weights}: the file records no class names`);
    await net.exportOnnx(o.out, {
      opset: o.opset,
      foldBatchNorm: o.foldBatchNorm,
      dynamicBatch: o.batchSize === undefined,
      batchSize: o.batchSize,
      preprocessing: model.recipe,
      classes: model.classes,
      inputName: o.inputName,
      outputName: o.outputName,
    });
  } finally {
    net.dispose();
  }
  const batch = o.batchSize ?? 'batch';
  const megabytes = (fs.statSync(o.out).size / 2 ** 20).toFixed(1);
  process.stdout.write(`${o.out}: ${net.arch}, opset ${o.opset}, ${o.inputName} [${batch}, 3, ${model.imageSize}, ${model.imageSize}] -> ` +
    `${o.outputName} [${batch}, ${net.numClasses}], ${net instanceof ResNet || net.headKind === 'mae-probe' ? `BatchNorm ${o.foldBatchNorm ? 'folded' : 'kept'}, ` : ''}${megabytes} MiB\n`);
  return 0;
}
