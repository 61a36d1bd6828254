// exportOnnx: a model as an ONNX file that ONNX Runtime (Python, Node, the web) and every other
// ONNX consumer runs in eval mode, with what it needs to be used right in its metadata. The model
// comes as an OnnxSource, its graph built on the op builder (resnet.ts builds a ResNet's; another
// architecture brings its own), so that this file knows no architecture. The options are checked
// before anything is computed; the file is written whole or not at all (lib/base/atomic.ts).
import { writeFileAtomic } from '../base/atomic';
import { arrayOf, bool, checkArg, checkOptions, custom, int, num, oneOf, str } from '../base/check';
import { EvalRecipe, evalRecipe } from '../data/eval-recipe';
import { FinetorchError, rangeError } from '../base/errors';
import { packageVersion } from '../base/version';
import { Dim, GraphBuilder } from './graph';
import { exportMetadata } from './metadata';
import { encodeModel } from './onnx-proto';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, irVersionFor } from './opset';

/** `net.exportOnnx`'s options (and `finetorch export`'s flags). */
export interface OnnxExportOptions {
  /** The ai.onnx operator set, 11..26; default 17. */
  opset?: number;
  /** The batch dimension named 'batch', any size at run time (default true); false fixes it at `batchSize`. */
  dynamicBatch?: boolean;
  /** The fixed batch size when dynamicBatch is false; default 1. */
  batchSize?: number;
  /**
   * Each BatchNorm folded into the Conv before it (MAE's probe head's into the Linear after it; default
   * true), or kept as BatchNormalization nodes.
   */
  foldBatchNorm?: boolean;
  /** The input's height and width; default preprocessing.centerCrop, else the model's own size (a ViT's), else 224. */
  imageSize?: number;
  /**
   * How images are prepared, recorded in the file's metadata; default torchvision's eval recipe at
   * imageSize (resize to imageSize*256/224 square, bilinear, centre crop, ImageNet mean and std).
   */
  preprocessing?: EvalRecipe;
  /** The class names in output order, recorded in the metadata; as many as the model has outputs. */
  classes?: string[];
  /** The graph input's name; default 'input'. */
  inputName?: string;
  /** The graph output's name; default 'logits'. */
  outputName?: string;
}

/** What a model's graph is built for: the checked options that shape it. */
export interface GraphOptions {
  /** The graph's name: the architecture's. */
  name: string;
  /** The operator set the file declares: a graph may need a newer one (LayerNormalization: 17) and must say so. */
  opset: number;
  foldBatchNorm: boolean;
  inputName: string;
  outputName: string;
  /** The input's [N, 3, H, W]: N a size or the name of a dynamic one. */
  inputShape: [Dim, 3, number, number];
}

/** What the exporter needs of a model: its architecture, its class count, and its eval-mode graph. */
export interface OnnxSource {
  arch: string;
  numClasses: number;
  /** The one image size the model takes (a ViT's, whose position embedding fixes it); undefined: any. */
  imageSize?: number;
  /** Builds the graph (weights included) once the options are found right. */
  graph(options: GraphOptions): Promise<GraphBuilder>;
}

/** Protobuf caps a message at 2 GiB - 1; ONNX's external-data layout, which finetorch does not write, is the way past it. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

const WHERE = 'exportOnnx';
const name = str().where('that is not empty', (v) => v !== '');
const recipe = custom<EvalRecipe>('an object { resize, interpolation, centerCrop, mean, std }', (v) => typeof v === 'object' && v !== null);

/** Checks `options` against the model; every mistake is a coded error naming the option. */
function checkExportOptions(options: OnnxExportOptions, source: OnnxSource) {
  const o = checkOptions(WHERE, options, {
    opset: int({ min: MIN_OPSET, max: MAX_OPSET }).default(DEFAULT_OPSET),
    dynamicBatch: bool().default(true),
    batchSize: int({ min: 1 }).orUndefined(),
    foldBatchNorm: bool().default(true),
    imageSize: int({ min: 1 }).orUndefined(),
    preprocessing: recipe.orUndefined(),
    classes: arrayOf(str()).orUndefined(),
    inputName: name.default('input'),
    outputName: name.default('logits'),
  });
  if (o.dynamicBatch && o.batchSize !== undefined) {
    throw invalid(`batchSize ${o.batchSize} fixes the batch, but dynamicBatch is true (pass dynamicBatch: false)`);
  }
  if (o.inputName === o.outputName) throw invalid(`inputName and outputName are both '${o.inputName}'`);
  if (o.classes && o.classes.length !== source.numClasses) {
    throw invalid(`classes names ${o.classes.length} classes, the model has ${source.numClasses} outputs`);
  }
  const preprocessing = o.preprocessing === undefined ? evalRecipe(o.imageSize ?? source.imageSize ?? 224) : checkRecipe(o.preprocessing);
  if (o.imageSize !== undefined && o.imageSize !== preprocessing.centerCrop) {
    throw invalid(`imageSize ${o.imageSize} differs from preprocessing.centerCrop ${preprocessing.centerCrop}, the size the network sees`);
  }
  if (source.imageSize !== undefined && preprocessing.centerCrop !== source.imageSize) {
    throw invalid(`this ${source.arch} takes ${source.imageSize}x${source.imageSize} images only, not ${preprocessing.centerCrop}x${preprocessing.centerCrop}`);
  }
  const batch: Dim = o.dynamicBatch ? 'batch' : o.batchSize ?? 1;
  return { ...o, preprocessing, imageSize: preprocessing.centerCrop, batch };
}

const positive = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
// torchvision's Resize argument: one number (the shorter side) or [height, width].
const RESIZE = custom<number | number[]>('an integer >= 1 (the shorter side) or [height, width]',
  (v) => positive(v) || (Array.isArray(v) && v.length === 2 && v.every(positive)));

function checkRecipe(value: EvalRecipe): EvalRecipe {
  const r = checkOptions(`${WHERE}: preprocessing`, value, {
    resize: RESIZE,
    cropMode: oneOf(['squash', 'center']).orUndefined(),
    cropPct: num({ above: 0, max: 1 }).orUndefined(),
    interpolation: oneOf(['nearest', 'bilinear', 'bicubic']),
    centerCrop: int({ min: 1 }),
    mean: arrayOf(num(), 3),
    std: arrayOf(num({ above: 0 }), 3),
  });
  const oneSide = typeof r.resize === 'number';
  if (r.cropMode !== undefined && (r.cropMode === 'center') !== oneSide) {
    throw invalid(r.cropMode === 'center' ? `preprocessing: cropMode 'center' resizes one side, not [${String(r.resize)}]`
      : `preprocessing: cropMode 'squash' resizes to [height, width], not one side (${String(r.resize)})`);
  }
  const shorter = typeof r.resize === 'number' ? r.resize : Math.min(...r.resize);
  checkArg(`${WHERE}: preprocessing`, 'centerCrop', r.centerCrop, int({ max: shorter }));
  return { ...r, resize: typeof r.resize === 'number' ? r.resize : [r.resize[0], r.resize[1]] };
}

function invalid(message: string): RangeError {
  return rangeError('ERR_FINETORCH_INVALID_ARG', `${WHERE}: ${message}`);
}

/** Writes `source` to `file` as an ONNX model (see {@link OnnxExportOptions}). */
export async function exportOnnx(file: string, source: OnnxSource, options: OnnxExportOptions = {}): Promise<void> {
  checkArg(WHERE, 'file', file, str());
  const o = checkExportOptions(options, source);
  const graph = await source.graph({
    name: source.arch,
    opset: o.opset,
    foldBatchNorm: o.foldBatchNorm,
    inputName: o.inputName,
    outputName: o.outputName,
    inputShape: [o.batch, 3, o.imageSize, o.imageSize],
  });
  const chunks = encodeModel({
    irVersion: irVersionFor(o.opset),
    opset: o.opset,
    producerName: 'finetorch',
    producerVersion: packageVersion(),
    docString: `${source.arch} with ${source.numClasses} classes in eval mode, exported by finetorch`,
    graph: graph.build(),
    metadata: exportMetadata(source.arch, o.preprocessing, o.classes),
  });
  checkModelSize(chunks.reduce((sum, c) => sum + c.byteLength, 0), file);
  await writeFileAtomic(file, chunks);
}

/** A model over protobuf's limit would be written, then refused by every reader. */
export function checkModelSize(bytes: number, file: string): void {
  if (bytes > MAX_MODEL_BYTES) {
    throw new FinetorchError('ERR_FINETORCH_ONNX', `${file}: the model is ${bytes} bytes, over the ${MAX_MODEL_BYTES} that one protobuf ` +
      'message holds (ONNX files this large keep their weights as external data, which finetorch does not write)');
  }
}
