// fastai's Learner.lr_find on a model: the range test (lr-range-test.ts) with one SGD step per batch
// of the training data (cycled through epochs as needed), finetune or linear-probe as the loops
// train; then the model's weights and BatchNorm statistics are put back as they were.
import { bool, checkOptions, num, oneOf } from '../base/check';
import { FinetorchError } from '../base/errors';
import { cpuMemory } from '../base/runtime';
import type { Batch, BatchSource } from '../data/batch';
import { stepwise } from '../data/loader';
import type { Model } from '../model/model';
import { SGD } from '../optim/sgd';
import { checkClassifier, isNonFiniteLoss } from './loop';
import { LrFindResult, RANGE_TEST_SCHEMA, RangeTestOptions, rangeTest } from './lr-range-test';

export interface LrFindOptions extends RangeTestOptions {
  /**
   * What trains: 'finetune' (every layer, fc at fcLrMult x lr, as fineTune) or 'linear-probe' (fc
   * only, backbone frozen, as linearProbe). The lr tested is the first group's, the `lr` of those
   * loops (fastai gives every group the same lr).
   */
  mode?: 'finetune' | 'linear-probe';
  /** Default 10 (finetune). */
  fcLrMult?: number;
  /** Default 0. */
  momentum?: number;
  /** Default 1e-3. */
  weightDecay?: number;
  nesterov?: boolean;
}

const SCHEMA = {
  ...RANGE_TEST_SCHEMA,
  mode: oneOf(['finetune', 'linear-probe'] as const).default('finetune'),
  fcLrMult: num({ min: 0 }).default(10),
  momentum: num({ min: 0 }).default(0),
  weightDecay: num({ min: 0 }).default(0.001),
  nesterov: bool().default(false),
};

/** fastai's lr_find on `net` over `train` (cycled through epochs as needed). */
export async function lrFind(net: Model, train: BatchSource, options: LrFindOptions = {}): Promise<LrFindResult> {
  const o = checkOptions('lrFind', options, SCHEMA);
  checkClassifier('lrFind', net);
  if (o.mode === 'finetune') net.unfreeze();
  else net.freeze({ except: [net.classifierName] });
  const groups = o.mode === 'finetune'
    ? [{ params: net.parameters({ exclude: [net.classifierName] }) }, { params: net.getClassifier().parameters(), lr: o.startLr * o.fcLrMult }]
    : [{ params: net.getClassifier().parameters() }];
  const optimizer = new SGD(groups, { lr: o.startLr, momentum: o.momentum, weightDecay: o.weightDecay, nesterov: o.nesterov });
  const saved = await net.stateDict();
  const batches = cycle(train);
  try {
    return await rangeTest(async (lr) => {
      optimizer.paramGroups[0].lr = lr;
      if (o.mode === 'finetune') optimizer.paramGroups[1].lr = lr * o.fcLrMult;
      const { value: b } = await batches.next();
      try {
        return (await net.trainStep(b!.input, b!.target, optimizer)).loss;
      } catch (err) {
        if (isNonFiniteLoss(err)) return NaN;
        throw err;
      }
    }, { startLr: o.startLr, endLr: o.endLr, numIt: o.numIt, stopDiv: o.stopDiv, signal: o.signal, onStep: o.onStep });
  } finally {
    await batches.return(undefined);
    await net.loadStateDict(saved);
    cpuMemory.emptyCache();
  }
}

/** Epoch after epoch of `source`, as fastai's lr_find fits as many epochs as numIt needs. */
async function* cycle(source: BatchSource): AsyncGenerator<Batch, void, undefined> {
  for (let epoch = 1; ; epoch++) {
    source.setEpoch?.(epoch);
    let any = false;
    for await (const b of stepwise(source)) {
      any = true;
      yield b;
    }
    if (!any) throw new FinetorchError('ERR_FINETORCH_DATASET', 'lrFind: the training data gave no batches');
  }
}

