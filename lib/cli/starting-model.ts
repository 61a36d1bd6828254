// The model a run starts from (train, lr-find): the weights --weights names, whose head (a ResNet's
// fc, a ViT's head) is kept when it already answers for the class folders (the card or
// classes.json beside them lists them, or --keep-fc says so), and replaced by a fresh
// Linear(features, classes) otherwise. What happened is said either way, and so is a normalisation
// the weights were trained with that train does not use.
import { FinetorchError } from '../base/errors';
import type { Model, ResetClassifierOptions } from '../model/model';
import { loadModel } from '../model/load';
import { classesNextTo } from './classes';
import { readCard } from './model-card';
import { counted } from './progress';
import { resolveWeights, trainingNormalizationWarning } from './weights-source';

/** The class names beside a .pth: its card's, else classes.json's. */
export async function classesOf(weights: string): Promise<string[] | undefined> {
  return (await readCard(weights))?.classes ?? classesNextTo(weights);
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface StartingModelOptions {
  arch: string | undefined;
  seed: number;
  keepFc: boolean;
  imageSize: number;
  /** A ViT's pooling (MAE's protocols: 'token' to probe, 'avg' to fine-tune); default the weights'. */
  globalPool?: 'token' | 'avg';
  /** The fresh head's kind and initialisation; default a Linear as nn.Linear starts. A kept head must be of its kind. */
  head?: Omit<ResetClassifierOptions, 'seed'>;
}

export async function startingModel(
  weights: string, classes: string[], options: StartingModelOptions,
): Promise<{ net: Model; about: string; warning: string | undefined }> {
  const { file, card, numHeads } = await resolveWeights(weights);
  const warning = trainingNormalizationWarning(weights, card);
  // A ViT is made for the training images' size (its position embedding interpolated as MAE does).
  const net = await loadModel(file, { arch: options.arch, imgSize: options.imageSize, globalPool: options.globalPool, numHeads });
  const head = net.classifierName;
  try {
    const own = card?.classes ?? await classesNextTo(file);
    const about = (text: string) => ({ net, about: `model: ${weights} (${net.arch}), ${text}`, warning });
    const fits = net.numClasses === classes.length && net.headKind === (options.head?.head ?? 'linear');
    if (fits && own !== undefined && sameList(own, classes)) {
      return about(`${head} kept (the classes listed beside it are these class folders)`);
    }
    if (options.keepFc) {
      if (!fits) throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `--keep-fc: ${weights} has ${counted(net.numClasses, 'output')}, but the data has ${counted(classes.length, 'class folder')}`);
      if (own !== undefined) {
        throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `--keep-fc: the classes listed beside ${weights} (${own.join(', ')}) are not the class folders (${classes.join(', ')})`);
      }
      return about(`${head} kept (--keep-fc: its ${net.numClasses} outputs taken as ${classes.join(', ')})`);
    }
    const before = String(net.getClassifier());
    net.resetClassifier(classes.length, { ...options.head, seed: options.seed });
    const hint = fits && own === undefined ? `; its ${head} had as many outputs as there are classes: --keep-fc keeps a fine-tuned one` : '';
    return about(`${head} replaced: ${before} -> ${net.getClassifier()}${hint}`);
  } catch (err) {
    net.dispose();
    throw err;
  }
}
