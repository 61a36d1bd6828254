// What each command runs with, once its flags are read and checked (cli/commands/) and before the
// work starts (cli/run/): plain values, no LibTorch. train and lr-find share their groups of fields.
import type { Device } from '../model/model';
import type { MaeCreateOptions } from '../model/mae';
import type { Amp } from '../model/precision';
import type { Arch } from '../model/resnet-architectures';
import type { MaeWeightsName } from '../model/mae-weights';
import type { ResizeRule } from './model-card';
import type { CheckpointContents } from '../train/checkpoint';

/** What trains: every layer (fineTune, fc at --fc-lr-mult) or fc alone (linearProbe). */
export const MODES = ['finetune', 'linear-probe'] as const;
export type Mode = (typeof MODES)[number];

/** train's --protocol: the d2l chapter's recipe (--mode, --sched ...), or MAE's linear probe or fine-tuning. */
export const PROTOCOLS = ['d2l', 'mae-linprobe', 'mae-finetune'] as const;
export type CliProtocol = (typeof PROTOCOLS)[number];

/** MAE's flags as given (undefined: MAE's default, which the library applies). */
/** timm's RandomErasing fills, as MAE's --remode names them. */
export const ERASING_MODES = ['const', 'rand', 'pixel'] as const;
export type ErasingMode = typeof ERASING_MODES[number];

export interface MaeSettings {
  blr?: number;
  lr?: number;
  weightDecay?: number;
  warmupEpochs?: number;
  minLr?: number;
  layerDecay?: number;
  mixup?: number;
  cutmix?: number;
  labelSmoothing?: number;
  dropPath?: number;
}

/** train's --sched. */
export const SCHEDULES = ['constant', 'step', 'cosine', 'onecycle'] as const;

/** The train augmentation: torchvision's RandomResizedCrop(scale, ratio) and the flip. */
export interface Augmentation {
  scale: [number, number];
  ratio: [number, number];
  hflip: number;
}

/** The model a run starts from, besides the weights file. */
export interface StartingModelSettings {
  /** A ResNet's or ViT's name; undefined: read off the weights (a resume: the checkpoint's). */
  arch: string | undefined;
  keepFc: boolean;
}

/** What trains and SGD's settings besides the lr. */
export interface OptimizerSettings {
  mode: Mode;
  fcLrMult: number;
  weightDecay: number;
  momentum: number;
}

/** The training images: where they are, how they are batched, sized, augmented and split. */
export interface TrainingImageSettings {
  data: string;
  batchSize: number;
  imageSize: number;
  augmentation: Augmentation;
  validSplit: number;
  seed: number;
  /** Decode large JPEGs DCT-scaled (not torchvision's pixels). */
  shrinkOnLoad: boolean;
  skipBadImages: boolean;
}

/** Where and how the model computes, and the threads of the data loader. */
export interface ComputeSettings {
  device: Device;
  amp: Amp;
  channelsLast: boolean;
  /** LibTorch's CPU threads; undefined: LibTorch's choice. */
  threads: number | undefined;
  workers: number;
}

/** The --sched flags, which cli/lr-schedule.ts turns into one Schedule. */
export interface ScheduleSettings {
  sched: (typeof SCHEDULES)[number];
  epochs: number;
  warmupEpochs: number;
  minLr: number;
  decayEpochs: number;
  decayRate: number;
  pctStart: number;
}

export interface TrainSettings extends StartingModelSettings, OptimizerSettings, TrainingImageSettings, ComputeSettings, ScheduleSettings {
  /** Undefined when resuming: the checkpoint holds every weight. */
  weights: string | undefined;
  out: string;
  force: boolean;
  protocol: CliProtocol;
  /** --protocol mae-*: MAE's flags. */
  mae: MaeSettings;
  /** --protocol mae-finetune: --reprob and --remode as given (MAE's 0.25, 'pixel' when absent). */
  erasing: { reprob?: number; remode?: ErasingMode };
  /** The run resumed: its folder, checkpoint, and the settings run.json kept (the flags it ran with). */
  resume: { dir: string; checkpoint: string; info: CheckpointContents; saved: Record<string, string> } | undefined;
  freezeEpochs: number;
  lr: number;
  dropLast: boolean;
  valBatchSize: number;
  /** How validation (and the card, for eval and predict) resizes before the centre crop. */
  resizeRule: ResizeRule;
  patience: number | undefined;
  checkpointEvery: number;
  logEvery: number;
  json: boolean;
  /** What run.json keeps: the flags as resolved, paths absolute, so a resume may start anywhere. */
  saved: Record<string, string>;
}

export interface LrFindSettings extends StartingModelSettings, OptimizerSettings, TrainingImageSettings, ComputeSettings {
  weights: string;
  startLr: number;
  endLr: number;
  numIt: number;
  plot: string | undefined;
  json: boolean;
}

/** A trained model run on images (eval, predict): the weights, and how images are sized and decoded. */
export interface InferenceSettings {
  weights: string;
  /** A ResNet's or ViT's name; undefined: read off the weights. */
  arch: string | undefined;
  /** Undefined: the card's. */
  imageSize: number | undefined;
  /** --crop-mode and --crop-pct; undefined: the card's. */
  resizeRule: ResizeRule;
  /** Decode large JPEGs DCT-scaled (not torchvision's pixels). */
  shrinkOnLoad: boolean;
  device: Device;
  json: boolean;
}

export interface EvalSettings extends InferenceSettings {
  data: string;
  batchSize: number;
  skipBadImages: boolean;
}

export interface PredictSettings extends InferenceSettings {
  /** Image files and folders of them. */
  paths: string[];
  topK: number;
}

export interface ExportSettings {
  weights: string;
  out: string;
  /** A ResNet's or ViT's name; undefined: read off the weights. */
  arch: string | undefined;
  /** Undefined: the card's. */
  imageSize: number | undefined;
  opset: number;
  foldBatchNorm: boolean;
  /** Undefined: a dynamic batch dimension. */
  batchSize: number | undefined;
  inputName: string;
  outputName: string;
}

export interface InspectSettings {
  file: string;
  json: boolean;
}

/** What `finetorch weights` does: list the published weights, get some into a cache (torchvision's or the Hub's), or import a copy. */
export type WeightsSettings =
  | { sub: 'list'; json: boolean }
  | { sub: 'get'; arch: Arch; weights: string | undefined; modelDir: string | undefined; baseUrl: string | undefined; verify: boolean; json: boolean }
  | { sub: 'get-mae'; name: MaeWeightsName; modelDir: string | undefined; baseUrl: string | undefined; verify: boolean; json: boolean }
  | { sub: 'get-hub'; id: `hf-hub:${string}`; revision: string | undefined; cacheDir: string | undefined; offline: boolean; json: boolean }
  | { sub: 'import'; file: string; modelDir: string | undefined; json: boolean };

/** finetorch mae-pretrain's settings (main_pretrain.py's arguments). */
export interface MaePretrainSettings extends Pick<ComputeSettings, 'device' | 'threads' | 'workers'> {
  data: string;
  out: string;
  /** MaskedAutoencoder.create's options: the named size, the flags that change it, norm_pix_loss. */
  model: MaeCreateOptions;
  maskRatio: number;
  epochs: number;
  warmupEpochs: number;
  blr: number;
  lr: number | undefined;
  minLr: number;
  weightDecay: number;
  batchSize: number;
  seed: number;
  resume: boolean;
  checkpointEvery: number;
  shrinkOnLoad: boolean;
  skipBadImages: boolean;
  logEvery: number;
}
