// finetorch mae-pretrain, its interface: flags, their checks and help. The pretraining (LibTorch)
// lives in run/mae-pretrain.ts, loaded once the flags are right.
import * as path from 'node:path';
import { didYouMean } from '../../base/check';
import { MAE_ARCHS, MaeArch } from '../../model/mae-architectures';
import { Command, CommandSpec, Flags, OptionSpec, Parsed, UsageError } from '../args';
import { DEVICE_OPTION, deviceFlag } from './device-flag';
import { SHRINK_ON_LOAD_OPTION, SKIP_BAD_IMAGES_OPTION } from './model-flags';
import { LOG_EVERY_OPTION, RUNTIME_OPTIONS, runtimeFlags } from './training-flags';

const ARCHS = Object.keys(MAE_ARCHS) as MaeArch[];
/** Flags that change the named size (small MAEs), and the MaeConfig field each sets. */
const SIZE_FLAGS = {
  'image-size': 'imgSize', 'patch-size': 'patchSize', 'embed-dim': 'embedDim', depth: 'depth', 'num-heads': 'numHeads',
  'decoder-embed-dim': 'decoderEmbedDim', 'decoder-depth': 'decoderDepth', 'decoder-num-heads': 'decoderNumHeads',
} as const;

const options: Record<string, OptionSpec> = {
  out: { type: 'string', value: 'DIR', help: 'where the checkpoint, the encoder, the history and the reconstruction picture go' },
  arch: { type: 'string', value: 'NAME', help: `MAE's model (${ARCHS.join(', ')})`, default: 'mae_vit_base_patch16' },
  'image-size': { type: 'string', value: 'S', help: "side of the square crops (MAE's input_size)", default: '224' },
  'patch-size': { type: 'string', value: 'P', help: "the encoder's patch side (default: the arch's)" },
  'embed-dim': { type: 'string', value: 'D', help: "the encoder's width (default: the arch's)" },
  depth: { type: 'string', value: 'N', help: "the encoder's blocks (default: the arch's)" },
  'num-heads': { type: 'string', value: 'H', help: "the encoder's attention heads (default: the arch's)" },
  'decoder-embed-dim': { type: 'string', value: 'D', help: "the decoder's width (default 512)" },
  'decoder-depth': { type: 'string', value: 'N', help: "the decoder's blocks (default 8)" },
  'decoder-num-heads': { type: 'string', value: 'H', help: "the decoder's attention heads (default 16)" },
  'mlp-ratio': { type: 'string', value: 'R', help: 'hidden width / width of every MLP', default: '4' },
  'mask-ratio': { type: 'string', value: 'F', help: 'the share of patches masked', default: '0.75' },
  'norm-pix-loss': { type: 'boolean', help: "the loss against each patch's pixels normalised by their mean and variance (MAE's recipe uses it)" },
  epochs: { type: 'string', value: 'N', help: 'epochs to train (main_pretrain.py: 400; PRETRAIN.md: 800)', default: '400' },
  'warmup-epochs': { type: 'string', value: 'N', help: 'epochs of linear warm-up from 0', default: '40' },
  blr: { type: 'string', value: 'X', help: 'base lr: lr = blr x batch size / 256 (PRETRAIN.md\'s 1.5e-4)', default: '1.5e-4' },
  lr: { type: 'string', value: 'X', help: 'the absolute peak lr, instead of --blr\'s' },
  'min-lr': { type: 'string', value: 'X', help: 'where the half-cycle cosine ends', default: '0' },
  'weight-decay': { type: 'string', value: 'X', help: 'AdamW weight decay of the weights (none on biases and norms)', default: '0.05' },
  'batch-size': { type: 'string', value: 'B', help: 'images per step (main_pretrain.py: 64 per GPU)', default: '64' },
  seed: { type: 'string', value: 'K', help: 'seeds the initialisation, the shuffling, the augmentation and the masks', default: '0' },
  resume: { type: 'boolean', help: "continue the run in --out from its checkpoint (exactly where it stopped)" },
  'checkpoint-every': { type: 'string', value: 'N', help: 'also checkpoint every N steps (0: at epochs\' ends only)', default: '0' },
  'shrink-on-load': SHRINK_ON_LOAD_OPTION,
  'skip-bad-images': SKIP_BAD_IMAGES_OPTION,
  device: DEVICE_OPTION,
  ...RUNTIME_OPTIONS,
  'log-every': LOG_EVERY_OPTION,
};

const spec: CommandSpec = {
  name: 'mae-pretrain',
  usage: ['mae-pretrain DATA --out DIR [--arch NAME] [--mask-ratio F] [--epochs N] [options]'],
  positionals: { min: 1, max: 1, what: 'the DATA folder (its train/ subfolder when it has one; class folders, as ImageFolder reads them)' },
  options,
  notes: [
    "MAE's main_pretrain.py: AdamW (betas 0.9, 0.95) with weight decay on the weights only (timm's add_weight_decay), " +
      'lr = blr x batch size / 256 warmed up linearly, then a half-cycle cosine, set before every step; ' +
      "RandomResizedCrop(scale 0.2-1, bicubic) + flip + ImageNet normalisation; the images' labels are not used.",
    'DIR receives checkpoint.pth (model, AdamW state, position: --resume continues exactly), encoder.pth (the encoder in the ' +
      "layout of MAE's released checkpoints, {'model': ...} in timm's keys, which train --weights and MAE's main_finetune.py " +
      "read), history.json and reconstruction.png (original, masked, reconstruction, visible patches pasted back, as MAE's " +
      'visualisation notebook), the last three after every epoch.',
  ],
};

function positiveOrUndefined(flags: Flags, name: string): number | undefined {
  return flags.string(name) === undefined ? undefined : flags.int(name);
}

function archOf(flags: Flags): MaeArch {
  const arch = flags.required('arch');
  if ((ARCHS as string[]).includes(arch)) return arch as MaeArch;
  const meant = didYouMean(arch, ARCHS);
  throw new UsageError(`--arch must be one of ${ARCHS.join(', ')}, got '${arch}'${meant ? ` (did you mean '${meant}'?)` : ''}`);
}

async function run({ flags, positionals }: Parsed): Promise<number> {
  const maskRatio = flags.number('mask-ratio', { min: 0, max: 1 });
  if (maskRatio === 1) throw new UsageError("--mask-ratio must be below 1: the encoder would see no patch, got '1'");
  const data = path.resolve(positionals[0]);
  const out = path.resolve(flags.required('out'));
  if (!path.relative(data, out).startsWith('..')) throw new UsageError(`--out ${out} is inside DATA ${data}: its folder would become a class folder`);
  const sizes = Object.fromEntries(Object.entries(SIZE_FLAGS).map(([flag, key]) => [key, positiveOrUndefined(flags, flag)]));
  return (await import('../run/mae-pretrain')).pretrainMae({
    data,
    out,
    model: { arch: archOf(flags), ...sizes, mlpRatio: flags.number('mlp-ratio', { min: 0, open: true }), normPixLoss: flags.flag('norm-pix-loss') },
    maskRatio,
    epochs: flags.int('epochs'),
    warmupEpochs: flags.number('warmup-epochs', { min: 0 }),
    blr: flags.number('blr', { min: 0 }),
    lr: flags.string('lr') === undefined ? undefined : flags.number('lr', { min: 0 }),
    minLr: flags.number('min-lr', { min: 0 }),
    weightDecay: flags.number('weight-decay', { min: 0 }),
    batchSize: flags.int('batch-size'),
    seed: flags.int('seed', 0),
    resume: flags.flag('resume'),
    checkpointEvery: flags.int('checkpoint-every', 0),
    shrinkOnLoad: flags.flag('shrink-on-load'),
    skipBadImages: flags.flag('skip-bad-images'),
    device: deviceFlag(flags),
    ...runtimeFlags(flags),
    logEvery: flags.int('log-every', 0),
  });
}

export const command: Command = { spec, run };
