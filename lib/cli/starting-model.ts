// The model a run starts from (train, lr-find): a .pth whose head (a ResNet's fc, a ViT's head) is
// kept when it already answers for the class folders (the card or classes.json beside it lists
// them, or --keep-fc says so), and replaced by a fresh Linear(features, classes) otherwise. What
// happened is said either way.
import type { Model } from '../model';
import { loadModel } from '../model/load';
import { classesNextTo } from './classes';
import { readCard } from './model-card';

/** The class names beside a .pth: its card's, else classes.json's. */
export async function classesOf(weights: string): Promise<string[] | undefined> {
  return (await readCard(weights))?.classes ?? classesNextTo(weights);
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function startingModel(
  weights: string, classes: string[], options: { arch: string | undefined; seed: number; keepFc: boolean; imageSize: number },
): Promise<{ net: Model; about: string }> {
  const net = await loadModel(weights, { arch: options.arch, imgSize: options.imageSize });
  const head = net.classifierName;
  try {
    const own = await classesOf(weights);
    const fits = net.numClasses === classes.length;
    if (fits && own !== undefined && sameList(own, classes)) {
      return { net, about: `model: ${weights} (${net.arch}), ${head} kept (the classes listed beside it are these class folders)` };
    }
    if (options.keepFc) {
      if (!fits) throw new Error(`--keep-fc: ${weights} has ${net.numClasses} outputs, but there are ${classes.length} class folders`);
      if (own !== undefined) {
        throw new Error(`--keep-fc: the classes listed beside ${weights} (${own.join(', ')}) are not the class folders (${classes.join(', ')})`);
      }
      return { net, about: `model: ${weights} (${net.arch}), ${head} kept (--keep-fc: its ${net.numClasses} outputs taken as ${classes.join(', ')})` };
    }
    const before = String(net.getClassifier());
    net.resetClassifier(classes.length, { seed: options.seed });
    const hint = fits && own === undefined ? `; its ${head} had as many outputs as there are classes: --keep-fc keeps a fine-tuned one` : '';
    return { net, about: `model: ${weights} (${net.arch}), ${head} replaced: ${before} -> ${net.getClassifier()}${hint}` };
  } catch (err) {
    net.dispose();
    throw err;
  }
}
