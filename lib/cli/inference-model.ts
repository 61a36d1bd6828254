// The model side of the LibTorch commands: whether the device exists, and the weights --weights
// names loaded onto it with what they need to be used (eval, predict): class names and the eval
// transform, from the card beside a file (classes.json as a fallback for class names), timm's
// config.json for a Hub id, torchvision's transform for a torchvision name.
import { FinetorchError } from '../base/errors';
import type { Device, Model } from '../model/model';
import { loadModel } from '../model/load';
import { Transform } from '../data';
import { cuda, setNumThreads } from '../base/runtime';
import type { ComputeSettings } from './settings';
import { checkClassCount, classesNextTo } from './classes';
import { RecipeFlags, WeightsCard, chooseRecipe, recipeTransform } from './model-card';
import type { EvalRecipe } from '../data/eval-recipe';
import { resolveWeights } from './weights-source';

/** What train and lr-find run on: the device checked (before anything loads), LibTorch's CPU threads set when asked. */
export function startCompute(s: Pick<ComputeSettings, 'device' | 'threads'>): void {
  checkDevice(s.device);
  if (s.threads !== undefined) setNumThreads(s.threads);
}

/** The model onto `device`, at the precision asked (autocast, channels-last). */
export async function placeModel(net: Model, device: Device, s: Pick<ComputeSettings, 'amp' | 'channelsLast'>): Promise<void> {
  if (device !== 'cpu') await net.to(device);
  if (s.amp !== 'none' || s.channelsLast) net.setPrecision({ amp: s.amp, channelsLast: s.channelsLast });
}

export function checkDevice(device: Device): void {
  if (device === 'cpu') return;
  const index = Number(device.split(':')[1] ?? 0);
  if (!cuda.isAvailable()) throw new FinetorchError('ERR_FINETORCH_DEVICE', `--device ${device}: CUDA is not available (no GPU, or a CPU-only LibTorch)`);
  if (index >= cuda.deviceCount()) throw new FinetorchError('ERR_FINETORCH_DEVICE', `--device ${device}: there are only ${cuda.deviceCount()} CUDA devices`);
}

export interface InferenceModel {
  net: Model;
  card: WeightsCard | undefined;
  /** Class names in output order, and the file beside the weights they came from; undefined when none names them. */
  classes: string[] | undefined;
  classesFrom: string | undefined;
  /** The eval transform as data (the card's, or torchvision's at the image size). */
  recipe: EvalRecipe;
  transform: Transform;
  imageSize: number;
}

/**
 * A ResNet or ViT from --weights (a file, a finetorch checkpoint, a torchvision name, a Hub id), its
 * architecture and class count read off the weights; a ViT is made for the recipe's image size (its
 * position embedding interpolated when the file's differs).
 */
export async function loadInferenceModel(
  weights: string, options: { device: Device; arch: string | undefined } & RecipeFlags, warn: (message: string) => void,
): Promise<InferenceModel> {
  const { device, arch, ...flags } = options;
  checkDevice(device);
  const { file, card, numHeads } = await resolveWeights(weights);
  // The recipe's crop sizes a ViT; its warnings and errors come after the load, so that a file that
  // cannot be read fails with its one line alone.
  const warnings: string[] = [];
  const chosen = attempt(() => chooseRecipe(card, flags, weights, (message) => warnings.push(message)));
  const net = await loadModel(file, { device, arch, imgSize: chosen.value?.centerCrop, numHeads });
  try {
    if (chosen.error) throw chosen.error;
    warnings.forEach(warn);
    const recipe = chosen.value!;
    const listed = card?.classes ? undefined : await classesNextTo(file);
    const classes = card?.classes ?? listed;
    const classesFrom = card?.classes ? card.from : listed ? 'classes.json' : undefined;
    // A file's card or classes.json lies beside it; a Hub id's classes come from its config.json.
    if (classes) checkClassCount(classes, net.numClasses, card?.classes && file !== weights ? card.from : `the ${classesFrom} beside ${weights}`);
    return { net, card, classes, classesFrom, recipe, transform: recipeTransform(recipe), imageSize: recipe.centerCrop };
  } catch (err) {
    net.dispose();
    throw err;
  }
}

function attempt<T>(f: () => T): { value?: T; error?: Error } {
  try {
    return { value: f() };
  } catch (error) {
    return { error: error as Error };
  }
}
