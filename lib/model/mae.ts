// MaskedAutoencoder: MAE's MaskedAutoencoderViT (facebookresearch/mae models_mae.py) living in
// LibTorch. The encoder (timm's ViT blocks) sees only the visible patches, a light decoder predicts
// every patch's pixels, and the loss is the mean squared error on the masked ones. State dicts use
// MAE's keys, so MAE's Python loads what finetorch saves and the other way round; the encoder alone
// is written in the layout of MAE's released checkpoints, which VisionTransformer.load reads.
import { NativeMae, native } from '../base/binding';
import { bool, checkOptions, custom, int, num, oneOf } from '../base/check';
import { FinetorchError, rangeError } from '../base/errors';
import { Device, Parameter, ParameterOwner, StepOptimizer, deviceRule, seedRule } from './model';
import { OperationQueue } from '../base/queue';
import { HostTensor, checkHostTensor } from '../base/tensor';
import type { VitConfig } from './vit-architectures';
import { MAE_ARCHS, MaeArch } from './mae-architectures';

export { MAE_ARCHS };
export type { MaeArch };

/**
 * MaskedAutoencoderViT's constructor arguments, in camelCase: the encoder's as a ViT's (mlpRatio
 * serves the decoder's MLPs too, as MAE's constructor takes one), and the decoder's.
 */
export interface MaeConfig extends Pick<VitConfig, 'imgSize' | 'patchSize' | 'embedDim' | 'depth' | 'numHeads' | 'mlpRatio'> {
  decoderEmbedDim: number;
  decoderDepth: number;
  decoderNumHeads: number;
  /** The loss against each patch's pixels normalised by their own mean and variance (eps 1e-6). */
  normPixLoss: boolean;
}


/** MaskedAutoencoderViT's defaults besides the encoder: 224 px, the 512/8/16 decoder, MLP ratio 4, no norm_pix_loss. */
const MAE_DEFAULTS: MaeConfig = {
  imgSize: 224, ...MAE_ARCHS.mae_vit_base_patch16, mlpRatio: 4, decoderEmbedDim: 512, decoderDepth: 8, decoderNumHeads: 16,
  normPixLoss: false,
};

export interface MaeCreateOptions extends Partial<MaeConfig> {
  /** One of MAE_ARCHS (default mae_vit_base_patch16); the other options change it. */
  arch?: MaeArch;
  /** Seeds the initialisation as torch.manual_seed(seed) before MAE's constructor would. Default 0. */
  seed?: number;
  /** Where the model lives; default 'cpu'. */
  device?: Device;
}

export interface MaeForwardOptions {
  /** The share of patches masked (MAE's mask_ratio); default 0.75. */
  maskRatio?: number;
  /**
   * [N, L] float32: the noise whose per-sample argsort decides the mask (MAE draws torch.rand(N, L)).
   * Give this or noiseSeed; neither: noiseSeed 0.
   */
  noise?: HostTensor<'float32'>;
  /** The noise is torch.rand(N, L, generator=torch.Generator().manual_seed(noiseSeed)). */
  noiseSeed?: number;
  /** Back-propagate the loss and return the trainable parameters' gradients. Default false. */
  gradients?: boolean;
}

/** How trainStep draws its mask: MaeForwardOptions without gradients. */
export type MaeStepOptions = Omit<MaeForwardOptions, 'gradients'>;

export interface MaeOutput {
  loss: number;
  /** Shape [N, L, p*p*3]: every patch's predicted pixels (against normalised targets when normPixLoss). */
  pred: HostTensor<'float32'>;
  /** Shape [N, L]: 1 where the patch was masked, 0 where the encoder saw it. */
  mask: HostTensor<'float32'>;
  /** Shape [N, L], int64: argsort of the shuffle, as MAE returns it. */
  idsRestore: HostTensor<'int64'>;
  /** The trainable parameters' gradients by name (MAE's keys), with `gradients: true`. */
  gradients?: Map<string, HostTensor<'float32'>>;
}

const positive = int({ min: 1, max: 2 ** 31 - 1 });
const ratioRule = num({ min: 0 }).where('and < 1', (v) => v < 1);
const hostTensorRule = custom<HostTensor<'float32'>>('a float32 HostTensor', (v) => (v as HostTensor | null)?.dtype === 'float32');
const ENCODER_EXCLUDED = /^(mask_token|decoder_)/;

function fail(where: string, message: string): Error {
  return rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: ${message}`);
}

/** Sizes MAE cannot build, as coded errors before anything is allocated. */
function checkConfig(where: string, c: MaeConfig): void {
  if (c.imgSize % c.patchSize !== 0) throw fail(where, `patchSize ${c.patchSize} does not divide imgSize ${c.imgSize}`);
  if (c.embedDim % c.numHeads !== 0) throw fail(where, `embedDim ${c.embedDim} is not a multiple of numHeads ${c.numHeads}`);
  if (c.decoderEmbedDim % c.decoderNumHeads !== 0) {
    throw fail(where, `decoderEmbedDim ${c.decoderEmbedDim} is not a multiple of decoderNumHeads ${c.decoderNumHeads}`);
  }
  if (c.embedDim % 4 !== 0 || c.decoderEmbedDim % 4 !== 0) {
    throw fail(where, `the 2-D sine-cosine position embeddings need widths that are multiples of 4, got embedDim ${c.embedDim} and decoderEmbedDim ${c.decoderEmbedDim}`);
  }
  if (Math.trunc(Math.min(c.embedDim, c.decoderEmbedDim) * c.mlpRatio) < 1) throw fail(where, `mlpRatio ${c.mlpRatio} leaves an MLP no hidden units`);
}

/** The images and the noise (given, or seeded) that decide the mask, checked. */
function maskedBatch(where: string, images: HostTensor<'float32'>, options: MaeStepOptions) {
  checkHostTensor(images, 'images');
  const o = checkOptions(where, options, { maskRatio: ratioRule.default(0.75), noise: hostTensorRule.orUndefined(), noiseSeed: seedRule.orUndefined() });
  if (o.noise && o.noiseSeed !== undefined) throw fail(where, 'give noise or noiseSeed, not both');
  if (o.noise) checkHostTensor(o.noise, 'noise');
  return { images, maskRatio: o.maskRatio, ...(o.noise ? { noise: o.noise } : { noiseSeed: o.noiseSeed ?? 0 }) };
}

function toMap<T extends HostTensor>(o: { names: string[]; tensors: HostTensor[] }): Map<string, T> {
  return new Map(o.names.map((name, i) => [name, o.tensors[i] as T]));
}

export class MaskedAutoencoder implements ParameterOwner {
  readonly config: MaeConfig;
  /** @internal */
  readonly handle: NativeMae;
  /** @internal Every call on this model (and its optimizer) runs through this queue. */
  readonly queue = new OperationQueue();
  readonly #params: Map<string, { shape: number[]; requiresGrad: boolean }>;
  #where = 'cpu';
  #disposed = false;

  private constructor(config: MaeConfig, handle: NativeMae, parameters: { name: string; shape: number[]; requiresGrad: boolean }[]) {
    this.config = config;
    this.handle = handle;
    this.#params = new Map(parameters.map(({ name, ...meta }) => [name, meta]));
  }

  /** A randomly initialised MAE, as MAE's MaskedAutoencoderViT(**config) draws it after torch.manual_seed(seed). */
  static async create(options: MaeCreateOptions = {}): Promise<MaskedAutoencoder> {
    const where = 'MaskedAutoencoder.create';
    const o = checkOptions(where, options, {
      arch: oneOf(Object.keys(MAE_ARCHS) as MaeArch[]).orUndefined(),
      imgSize: positive.orUndefined(), patchSize: positive.orUndefined(), embedDim: positive.orUndefined(),
      depth: positive.orUndefined(), numHeads: positive.orUndefined(), mlpRatio: num({ above: 0 }).orUndefined(),
      decoderEmbedDim: positive.orUndefined(), decoderDepth: positive.orUndefined(), decoderNumHeads: positive.orUndefined(),
      normPixLoss: bool().orUndefined(), seed: seedRule.default(0), device: deviceRule.orUndefined(),
    });
    const given = Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k in MAE_DEFAULTS)) as Partial<MaeConfig>;
    const config: MaeConfig = { ...MAE_DEFAULTS, ...(o.arch ? MAE_ARCHS[o.arch] : {}), ...given };
    checkConfig(where, config);
    const { model, parameters } = await native.createMae({ ...config, seed: o.seed });
    const net = new MaskedAutoencoder(config, model, parameters);
    if (o.device) {
      try {
        await net.to(o.device);
      } catch (err) {
        await net.dispose();
        throw err;
      }
    }
    return net;
  }

  /** The device the model is on ('cpu', 'cuda:0'); images and noise are moved there for each call. */
  get device(): string {
    return this.#where;
  }

  /** Moves the model (torch's module.to(device)). */
  async to(device: Device): Promise<this> {
    const { device: checked } = checkOptions('MaskedAutoencoder.to', { device }, { device: deviceRule });
    this.#where = await this.run(`MaskedAutoencoder.to('${checked}')`, () => this.handle.to({ device: checked }));
    return this;
  }

  /** Patches per image (L). */
  get numPatches(): number {
    return (this.config.imgSize / this.config.patchSize) ** 2;
  }

  /**
   * MAE's forward(imgs, mask_ratio): the loss on the masked patches, the prediction, the mask and
   * ids_restore, for images [N, 3, imgSize, imgSize] float32 (normalised as the data is).
   */
  async forwardLoss(images: HostTensor<'float32'>, options: MaeForwardOptions = {}): Promise<MaeOutput> {
    const where = 'MaskedAutoencoder.forwardLoss';
    const { gradients = false, ...masking } = options;
    checkOptions(where, { gradients }, { gradients: bool() });
    const batch = maskedBatch(where, images, masking);
    return this.run(where, async () => {
      const out = await this.handle.forwardLoss({ ...batch, gradients });
      return { ...out, gradients: out.gradients && toMap(out.gradients) };
    });
  }

  /**
   * One step of MAE's pretraining (engine_pretrain.py's train_one_epoch): forward on the visible
   * patches, the loss on the masked ones, backward and one step of `optimizer` (made on this
   * model's parameters), in one native call. A NaN or infinite loss refuses the step
   * (ERR_FINETORCH_NONFINITE_LOSS) with the model and optimizer as they were.
   */
  async trainStep(images: HostTensor<'float32'>, optimizer: StepOptimizer, options: MaeStepOptions = {}): Promise<{ loss: number }> {
    const batch = maskedBatch('MaskedAutoencoder.trainStep', images, options);
    const runStep = optimizer.stepFor(this);
    // A failed step is not counted: its number is the count after the steps before it, plus one.
    return this.run(() => `step ${optimizer.stepCount + 1}`, () => runStep((o) => this.handle.trainStep({ ...batch, ...o })));
  }

  /** Parameters in registration order (as model.parameters()), the fixed position embeddings included. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedParameters(): [string, Parameter][] {
    return [...this.#params].map(([name, meta]) => [name, new Parameter(this, name, meta.shape)]);
  }

  /** @internal Whether the named parameter trains (the two position embeddings do not, as MAE's). */
  requiresGrad(name: string): boolean {
    return this.#params.get(name)?.requiresGrad ?? false;
  }

  /** @internal Runs a native operation on this model's queue; errors name `label`. */
  run<T>(label: string | (() => string), op: () => Promise<T>): Promise<T> {
    if (this.#disposed) {
      const name = typeof label === 'string' ? label : label();
      return Promise.reject(new FinetorchError('ERR_FINETORCH_DISPOSED', `${name}: this model has been disposed`));
    }
    return this.queue.run(label, op);
  }

  /** Every parameter in MAE's keys and order (CPU copies). */
  stateDict(): Promise<Map<string, HostTensor>> {
    return this.run('MaskedAutoencoder.stateDict', async () => toMap(await this.handle.stateDict()));
  }

  /**
   * The encoder alone, as MAE's released checkpoints hold it (save it as `{ model: ... }`):
   * cls_token, pos_embed, patch_embed, blocks, norm; no mask token, no decoder.
   */
  async encoderStateDict(): Promise<Map<string, HostTensor>> {
    const state = await this.stateDict();
    return new Map([...state].filter(([name]) => !ENCODER_EXCLUDED.test(name)));
  }

  /** load_state_dict: every key and shape checked before anything changes. Default strict. */
  async loadStateDict(state: ReadonlyMap<string, HostTensor>, options: { strict?: boolean } = {}): Promise<{ missing: string[]; unexpected: string[] }> {
    const { strict } = checkOptions('MaskedAutoencoder.loadStateDict', options, { strict: bool().default(true) });
    const names = [...state.keys()];
    const tensors = names.map((name) => {
      const t = state.get(name) as HostTensor;
      checkHostTensor(t, `state_dict['${name}']`);
      return t;
    });
    return this.run('MaskedAutoencoder.loadStateDict', () => this.handle.loadStateDict({ names, tensors, strict }));
  }

  /** Frees the native model now (it is also freed when collected). */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.queue.drain();
    await this.handle.dispose();
  }
}
