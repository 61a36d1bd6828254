// The model side of the LibTorch commands: whether the device exists, and a .pth loaded onto it
// with what it needs to be used (eval, predict): class names and the eval transform, from the card
// beside it (classes.json as a fallback for class names).
import * as path from 'node:path';
import type { Device, Model } from '../model';
import { loadModel } from '../model/load';
import { Transform } from '../data';
import { cuda } from '../runtime';
import { checkClassCount, classesNextTo } from './classes';
import { ModelCard, cardFile, chooseRecipe, readCard, recipeTransform } from './model-card';
import { requireFile } from './files';

export function checkDevice(device: Device): void {
  if (device === 'cpu') return;
  const index = Number(device.split(':')[1] ?? 0);
  if (!cuda.isAvailable()) throw new Error(`--device ${device}: CUDA is not available (no GPU, or a CPU-only LibTorch)`);
  if (index >= cuda.deviceCount()) throw new Error(`--device ${device}: there are only ${cuda.deviceCount()} CUDA devices`);
}

export interface InferenceModel {
  net: Model;
  card: ModelCard | undefined;
  /** Class names in output order, and the file beside the weights they came from; undefined when none names them. */
  classes: string[] | undefined;
  classesFrom: string | undefined;
  transform: Transform;
  imageSize: number;
}

/**
 * A ResNet or ViT from a .pth (or a finetorch checkpoint), its architecture and class count read off the
 * weights; a ViT takes the recipe's image size (its position embedding interpolated when the file's differs).
 */
export async function loadInferenceModel(
  weights: string, options: { device: Device; arch: string | undefined; imageSize: number | undefined }, warn: (message: string) => void,
): Promise<InferenceModel> {
  const { device, arch, imageSize } = options;
  checkDevice(device);
  await requireFile(weights, 'weights file');
  const card = await readCard(weights);
  const recipe = chooseRecipe(card, imageSize, weights, warn);
  const net = await loadModel(weights, { device, arch, imgSize: recipe.centerCrop });
  try {
    const listed = card ? undefined : await classesNextTo(weights);
    const classes = card?.classes ?? listed;
    const classesFrom = card ? path.basename(cardFile(weights)) : listed ? 'classes.json' : undefined;
    if (classes) checkClassCount(classes, net.numClasses, `the ${classesFrom} beside ${weights}`);
    return { net, card, classes, classesFrom, transform: recipeTransform(recipe), imageSize: recipe.centerCrop };
  } catch (err) {
    net.dispose();
    throw err;
  }
}
