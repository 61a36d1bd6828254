// The fine-tuning loops of the d2l chapter and MAE's two protocols: full fine-tuning (pretrained
// layers at lr, the new fc at fcLrMult x lr, optionally after fastai's frozen warm-up of the head)
// and linear probing (frozen backbone, head only, optionally on cached backbone features).
// protocol 'd2l' (the default) is the d2l fine-tuning chapter's recipe: SGD, lr 0.01, fc at 10x,
// weight decay 0.001, no momentum. protocol 'mae' is MAE's (mae-protocols.ts).
import { bool, checkArg, checkOptions, int, num, oneOf } from '../base/check';
import type { Batch, BatchSource } from '../data/batch';
import { perEpochVariation, stepwise } from '../data/loader';
import type { Model } from '../model/model';
import { SGD } from '../optim/sgd';
import type { EpochRecord } from './history';
import { LOOP_SCHEMA, LoopOptions, LoopPlan, checkClassifier, checkLoop, runLoop } from './loop';
import { rangeError } from '../base/errors';
import {
  MAE_FINETUNE_SCHEMA, MAE_PROBE_SCHEMA, MaeFineTuneOptions, MaeLinearProbeOptions, NOT_MAE, ONLY_MAE, maeFineTuneRecipe, maeProbeRecipe,
} from './mae-protocols';

/** Whose recipe: the d2l fine-tuning chapter's (SGD) or MAE's (main_linprobe.py, main_finetune.py). */
export type Protocol = 'd2l' | 'mae';

export interface FineTuneOptions extends LoopOptions, MaeFineTuneOptions {
  /**
   * 'd2l' (default): the chapter's SGD with fc at fcLrMult x lr. 'mae': main_finetune.py's AdamW
   * with layer decay, warm-up and half-cycle cosine per iteration, label smoothing and drop path
   * (see {@link MaeFineTuneOptions}; lr, when given, is MAE's absolute --lr).
   */
  protocol?: Protocol;
  /** fc's lr = fcLrMult * lr (the chapter's 10x). */
  fcLrMult?: number;
  /**
   * After fastai's fine_tune: the first `freezeEpochs` of `epochs` train fc alone (backbone frozen,
   * its BatchNorm statistics kept), then every layer trains. Default 0. Unlike fastai, they count
   * inside `epochs` (fastai's fine_tune(3, freeze_epochs=1) is 1 + 3 epochs: here epochs 4,
   * freezeEpochs 1), the frozen backbone's BatchNorm layers do not train, and the lrs and the
   * schedule run on unchanged (the history's `lr` is then the frozen group's, which does not train).
   */
  freezeEpochs?: number;
}

export interface LinearProbeOptions extends LoopOptions, MaeLinearProbeOptions {
  /**
   * 'd2l' (default): SGD on fc. 'mae': main_linprobe.py's LARS on MAE's probe head (the model must
   * have one: net.resetClassifier(n, { head: 'mae-probe' })), warm-up and half-cycle cosine per
   * iteration (see {@link MaeLinearProbeOptions}; lr, when given, is MAE's absolute --lr).
   */
  protocol?: Protocol;
  /**
   * Compute the frozen backbone's features once and train the head on them. The train source is
   * read once: a random transform (augmentation) or shuffling is frozen into that one pass, and every
   * epoch trains on the same images in the same order (a warning says so).
   */
  featureCache?: boolean;
  /** BatchNorm layers of the frozen backbone: 'eval' keeps running statistics (default). */
  bn?: 'eval' | 'train';
}

const protocolRule = oneOf(['d2l', 'mae'] as const).default('d2l');
const FINE_TUNE_SCHEMA = { ...LOOP_SCHEMA, protocol: protocolRule, fcLrMult: num({ min: 0 }).default(10), freezeEpochs: int({ min: 0 }).default(0) };
const LINEAR_PROBE_SCHEMA = { ...LOOP_SCHEMA, protocol: protocolRule, featureCache: bool().default(false), bn: oneOf(['eval', 'train'] as const).default('eval') };
const { momentum: _m, nesterov: _n, schedule: _s, lr: _lr, weightDecay: _wd, ...MAE_LOOP_SCHEMA } = LOOP_SCHEMA;
const MAE_FINE_TUNE = { ...MAE_LOOP_SCHEMA, protocol: protocolRule, ...MAE_FINETUNE_SCHEMA };
const MAE_LINEAR_PROBE = { ...MAE_LOOP_SCHEMA, protocol: protocolRule, featureCache: bool().default(false), ...MAE_PROBE_SCHEMA };

/** Full fine-tuning: the chapter's two parameter groups, or MAE's layer-decayed AdamW. */
export async function fineTune(net: Model, options: FineTuneOptions): Promise<EpochRecord[]> {
  if (isMae('fineTune', options)) {
    const o = checkOptions('fineTune', options, MAE_FINE_TUNE, NOT_MAE);
    checkLoop('fineTune', { ...o, schedule: undefined });
    checkClassifier('fineTune', net);
    const { optimizer, schedule, trainStep } = maeFineTuneRecipe('fineTune', net, o, o.train, o.epochs);
    return runLoop({ net, optimizer, trainStep, evalStep: (b) => net.evalStep(b.input, b.target, { logits: true }) }, { ...o, schedule });
  }
  const o = checkOptions('fineTune', options, FINE_TUNE_SCHEMA, ONLY_MAE);
  checkLoop('fineTune', o);
  checkClassifier('fineTune', net);
  net.unfreeze();
  const optimizer = new SGD([
    { params: net.parameters({ exclude: [net.classifierName] }) },
    { params: net.getClassifier().parameters(), lr: o.lr * o.fcLrMult },
  ], sgdDefaults(o));
  return runLoop({
    net, optimizer,
    trainStep: (b) => net.trainStep(b.input, b.target, optimizer),
    evalStep: (b) => net.evalStep(b.input, b.target, { logits: true }),
    beforeEpoch: o.freezeEpochs > 0 ? (epoch) => (epoch <= o.freezeEpochs ? net.freeze({ except: [net.classifierName] }) : net.unfreeze()) : undefined,
  }, o);
}

/** Linear probing: the backbone frozen, only the head trains (SGD on fc, or MAE's LARS on its probe head). */
export async function linearProbe(net: Model, options: LinearProbeOptions): Promise<EpochRecord[]> {
  if (isMae('linearProbe', options)) {
    const o = checkOptions('linearProbe', options, MAE_LINEAR_PROBE, NOT_MAE);
    checkLoop('linearProbe', { ...o, schedule: undefined });
    checkClassifier('linearProbe', net);
    // The schedule counts the steps of the source the loop reads: the cache holds as many batches.
    const { optimizer, schedule } = maeProbeRecipe('linearProbe', net, o, o.train, o.epochs);
    return probe(net, optimizer, { ...o, schedule });
  }
  const o = checkOptions('linearProbe', options, LINEAR_PROBE_SCHEMA, ONLY_MAE);
  checkLoop('linearProbe', o);
  checkClassifier('linearProbe', net);
  if (o.featureCache && o.bn === 'train') {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', 'linearProbe: featureCache needs a fixed backbone, so it cannot be combined with bn: \'train\'');
  }
  net.freeze({ except: [net.classifierName], bn: o.bn });
  return probe(net, new SGD(net.getClassifier().parameters(), sgdDefaults(o)), o);
}

function isMae(where: string, options: { protocol?: unknown } | undefined): boolean {
  const protocol = typeof options === 'object' && options !== null ? options.protocol : undefined;
  return checkArg(where, 'protocol', protocol, protocolRule) === 'mae';
}

/** The probe's loop: on images, or on the backbone's features computed once (featureCache). */
async function probe(net: Model, optimizer: LoopPlan['optimizer'],
  o: Parameters<typeof runLoop>[1] & { featureCache: boolean }): Promise<EpochRecord[]> {
  const plan: LoopPlan = {
    net, optimizer,
    trainStep: (b) => net.trainStep(b.input, b.target, optimizer),
    evalStep: (b) => net.evalStep(b.input, b.target, { logits: true }),
  };
  if (!o.featureCache) return runLoop(plan, o);
  warnIfVaried(o.train);
  const toFeatures = async (batches: BatchSource): Promise<Batch[]> => {
    const cached: Batch[] = [];
    for await (const b of stepwise(batches)) cached.push({ input: await net.features(b.input), target: b.target });
    return cached;
  };
  const train = await toFeatures(o.train);
  const valid = o.valid && await toFeatures(o.valid);
  return runLoop({
    ...plan,
    trainStep: (b) => net.trainHeadStep(b.input, b.target, optimizer),
    evalStep: (b) => net.evalHeadStep(b.input, b.target, { logits: true }),
  }, { ...o, train, valid });
}

/** The feature cache reads the train source once: say so when its batches would differ per epoch. */
function warnIfVaried(train: BatchSource): void {
  const { randomTransforms: random, shuffle } = perEpochVariation(train);
  if (random.length === 0 && !shuffle) return;
  const parts = [random.length > 0 && `random transform${random.length > 1 ? 's' : ''} (${random.join(', ')})`, shuffle && 'shuffling']
    .filter(Boolean);
  const verb = parts.length > 1 || random.length > 1 ? 'are' : 'is';
  process.emitWarning(`linearProbe: featureCache computes the features once, so the train source's ${parts.join(' and ')} ` +
    `${verb} frozen: every epoch trains on the same images in the same order. Use an eval transform, or no feature cache, ` +
    'for augmentation that changes per epoch.', { code: 'FINETORCH_FROZEN_AUGMENTATION' });
}

function sgdDefaults(o: { lr: number; momentum: number; weightDecay: number; nesterov: boolean }) {
  return { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, nesterov: o.nesterov };
}
