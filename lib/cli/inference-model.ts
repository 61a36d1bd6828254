// The model side of the LibTorch commands: whether the device exists, and a .pth loaded onto it
// with what it needs to be used (eval, predict): class names and the eval transform, from the card
// beside it (classes.json as a fallback for class names).
import * as path from 'node:path';
import { FinetorchError } from '../base/errors';
import type { Arch } from '../model/resnet-architectures';
import { Device, ResNet } from '../model/resnet';
import { Transform } from '../data';
import { cuda } from '../base/runtime';
import { checkClassCount, classesNextTo } from './classes';
import { ModelCard, RecipeFlags, cardFile, chooseRecipe, readCard, recipeTransform } from './model-card';
import type { EvalRecipe } from '../data/eval-recipe';
import { requireFile } from './files';

export function checkDevice(device: Device): void {
  if (device === 'cpu') return;
  const index = Number(device.split(':')[1] ?? 0);
  if (!cuda.isAvailable()) throw new FinetorchError('ERR_FINETORCH_DEVICE', `--device ${device}: CUDA is not available (no GPU, or a CPU-only LibTorch)`);
  if (index >= cuda.deviceCount()) throw new FinetorchError('ERR_FINETORCH_DEVICE', `--device ${device}: there are only ${cuda.deviceCount()} CUDA devices`);
}

export interface InferenceModel {
  net: ResNet;
  card: ModelCard | undefined;
  /** Class names in output order, and the file beside the weights they came from; undefined when none names them. */
  classes: string[] | undefined;
  classesFrom: string | undefined;
  /** The eval transform as data (the card's, or torchvision's at the image size). */
  recipe: EvalRecipe;
  transform: Transform;
  imageSize: number;
}

/** A ResNet from a .pth (or a finetorch checkpoint), its architecture and class count read off the weights. */
export async function loadInferenceModel(
  weights: string, options: { device: Device; arch: Arch | undefined } & RecipeFlags, warn: (message: string) => void,
): Promise<InferenceModel> {
  const { device, arch, ...flags } = options;
  checkDevice(device);
  await requireFile(weights, 'weights file');
  const card = await readCard(weights);
  const net = await ResNet.load(weights, { device, arch });
  try {
    // After the load: a file that cannot be read fails with its one line alone.
    const recipe = chooseRecipe(card, flags, weights, warn);
    const listed = card ? undefined : await classesNextTo(weights);
    const classes = card?.classes ?? listed;
    const classesFrom = card ? path.basename(cardFile(weights)) : listed ? 'classes.json' : undefined;
    if (classes) checkClassCount(classes, net.numClasses, `the ${classesFrom} beside ${weights}`);
    return { net, card, classes, classesFrom, recipe, transform: recipeTransform(recipe), imageSize: recipe.centerCrop };
  } catch (err) {
    net.dispose();
    throw err;
  }
}
