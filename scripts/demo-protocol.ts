// The demo's protocol as data: every hyper-parameter and every image index, written to
// protocol.json so that scripts/demo_pytorch.py runs exactly the same experiment in PyTorch.
import { FashionMNIST } from '../lib/data';
import { mulberry32, randperm } from '../lib/data/random';

export const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** The d2l fine-tuning chapter's optimizer: SGD, fc at fcLrMult x lr, weight decay, no momentum. */
export interface Recipe {
  lr: number;
  fcLrMult: number;
  weightDecay: number;
  momentum: number;
  batchSize: number;
}

export interface Settings {
  sourcePerClass: number;
  sourceEpochs: number;
  targetPerClass: number;
  targetEpochs: number;
  seeds: number;
  testPerClass: number;
}

export interface Protocol {
  data: string;
  /** Fashion-MNIST's pixel mean and std, applied to all three channels of the grey image. */
  mean: number;
  std: number;
  sourceClasses: number[];
  targetClasses: number[];
  recipe: Recipe;
  settings: Settings;
  /** A batch loss above this counts as a divergence (NaN and infinity always do). */
  maxLoss: number;
  /** Positions in the IDX files (train file for source/target, t10k file for the tests). */
  indices: { source: number[]; sourceTest: number[]; target: number[][]; test: number[] };
}

export const RECIPE: Recipe = { lr: 0.01, fcLrMult: 10, weightDecay: 1e-3, momentum: 0, batchSize: 32 };
export const SOURCE_CLASSES = [0, 1, 2, 3, 4];
export const TARGET_CLASSES = [5, 6, 7, 8, 9];

/**
 * How each run trains, derived from the one recipe as in the d2l chapter: from scratch every layer
 * gets fcLrMult x lr (the source model is trained this way too); fine-tuning keeps lr for the
 * pretrained layers and fcLrMult x lr for the new fc; the linear probe's fc gets the same fcLrMult x lr.
 */
export const METHODS = ['scratch', 'linear probe', 'fine-tune'] as const;
export type Method = (typeof METHODS)[number];

/** `perClass` positions of each class of `dataset` (IDX file positions), chosen with `seed`. */
function perClass(dataset: FashionMNIST, count: number, seed: number): number[] {
  const taken = new Map<number, number>();
  const picked: number[] = [];
  for (const i of randperm(dataset.length, mulberry32(seed))) {
    const t = dataset.targets[i];
    if ((taken.get(t) ?? 0) < count) {
      taken.set(t, (taken.get(t) ?? 0) + 1);
      picked.push(dataset.indices[i]);
    }
  }
  return picked;
}

export function makeProtocol(settings: Settings, data = FASHION_MNIST): Protocol {
  const sourceTrain = new FashionMNIST(data, { classes: SOURCE_CLASSES });
  const sourceTest = new FashionMNIST(data, { train: false, classes: SOURCE_CLASSES });
  const targetTrain = new FashionMNIST(data, { classes: TARGET_CLASSES });
  const targetTest = new FashionMNIST(data, { train: false, classes: TARGET_CLASSES });
  return {
    data, mean: 0.286, std: 0.353, sourceClasses: SOURCE_CLASSES, targetClasses: TARGET_CLASSES, recipe: RECIPE, settings, maxLoss: 100,
    indices: {
      source: perClass(sourceTrain, settings.sourcePerClass, 1234),
      sourceTest: Array.from(sourceTest.indices),
      target: Array.from({ length: settings.seeds }, (_, seed) => perClass(targetTrain, settings.targetPerClass, seed)),
      test: perClass(targetTest, settings.testPerClass, 99),
    },
  };
}
