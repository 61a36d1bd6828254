// timm's config.json (timm 1.0.29, models/_hub.py save_config_for_hf and _parse_model_cfg): the
// architecture, the class count, and the pretrained_cfg whose fields timm's resolve_data_config
// turns into the eval transform (input_size, crop_pct, crop_mode, interpolation, mean, std), with
// timm's defaults where a field is absent. Anything that would change the preprocessing or the
// model in a way finetorch cannot follow is refused here, before any weight is downloaded. A ViT's
// configuration is the one timm's create_model builds: the architecture's arguments
// (vision_transformer.py), model_args over them, and the image size from input_size (ViTs have
// fixed_input_size, which makes timm pass it as img_size).
import { ARCH_NAMES } from './resnet-architectures';
import { TIMM_VIT_ARCHS, TimmVitArch } from './timm-ids';
import { VitConfig, parseVitArch } from './vit-architectures';
import { hubError } from '../hub/hf-cache';

/** What a timm checkpoint on the Hub says about itself. */
export interface TimmConfig {
  /** timm's model name (config.json "architecture"): one of finetorch's ResNets or timm's ViTs it builds. */
  architecture: string;
  /** For a ViT, the configuration timm builds from the architecture, model_args and input_size; undefined for a ResNet. */
  vit: VitConfig | undefined;
  /** The head's outputs; 0 for a ViT without one (an encoder: MAE's, the in21k pre-training's). */
  numClasses: number;
  /** The pretrained weights' tag, e.g. 'a1_in1k'. */
  tag: string | undefined;
  /** [channels, height, width] the weights were evaluated at. */
  inputSize: [number, number, number];
  /** timm resizes to floor(size / cropPct), then crops the centre at `inputSize`. */
  cropPct: number;
  /** 'center': the shorter side is resized (aspect kept); 'squash': both sides are. */
  cropMode: 'center' | 'squash';
  interpolation: 'nearest' | 'bilinear' | 'bicubic';
  mean: [number, number, number];
  std: [number, number, number];
  /** Class names in output order, when the config lists them. */
  labelNames: string[] | undefined;
}

// timm's defaults (timm/data/constants.py, resolve_data_config).
const DEFAULTS = { inputSize: [3, 224, 224], cropPct: 0.875, cropMode: 'center', interpolation: 'bicubic', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
// model_args that only shape training (dropout rates), which finetorch may take as they come.
const HARMLESS_MODEL_ARGS = new Set(['drop_rate', 'drop_path_rate', 'drop_block_rate']);
// The ViT model_args finetorch builds (timm's VisionTransformer arguments, VitConfig's names), the
// dropout rates aside; any other (reg_tokens, init_values, qk_norm, pre_norm, ...) makes a model it does not.
const VIT_MODEL_ARGS = ['img_size', 'patch_size', 'embed_dim', 'depth', 'num_heads', 'mlp_ratio', 'qkv_bias', 'class_token', 'global_pool', 'fc_norm'];

/** config.json's text -> TimmConfig; `where` names the repo and file in errors. */
export function parseTimmConfig(text: string, where: string): TimmConfig {
  const fail = (detail: string) => hubError(`${where}: ${detail}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw fail(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) throw fail('not a JSON object, so not a timm config');
  // timm's legacy single-dict layout keeps the pretrained_cfg fields at the top level.
  const cfg = isObject(raw.pretrained_cfg) ? raw.pretrained_cfg : raw;
  const architecture = raw.architecture;
  if (typeof architecture !== 'string') throw fail('no "architecture": not a timm config.json');
  const isVit = (TIMM_VIT_ARCHS as readonly string[]).includes(architecture);
  if (!(ARCH_NAMES as readonly string[]).includes(architecture) && !isVit) {
    throw fail(`timm's architecture '${architecture}' is not one finetorch builds (${ARCH_NAMES.join(', ')}, ${TIMM_VIT_ARCHS.join(', ')})`);
  }
  const modelArgs = isObject(raw.model_args) ? raw.model_args : {};
  const foreign = Object.keys(modelArgs).filter((k) => !HARMLESS_MODEL_ARGS.has(k) && !(isVit && VIT_MODEL_ARGS.includes(k)));
  if (foreign.length) throw fail(`model_args ${foreign.join(', ')} change timm's ${architecture}, which finetorch builds as published`);

  const numClasses = raw.num_classes ?? cfg.num_classes;
  if (!Number.isSafeInteger(numClasses) || (numClasses as number) < (isVit ? 0 : 1)) {
    throw fail(`num_classes must be a ${isVit ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(numClasses)}`);
  }
  const inputSize = cfg.input_size ?? DEFAULTS.inputSize;
  if (!Array.isArray(inputSize) || inputSize.length !== 3 || inputSize[0] !== 3 || !inputSize.every((v) => Number.isSafeInteger(v) && v > 0)) {
    throw fail(`pretrained_cfg.input_size must be [3, height, width], got ${JSON.stringify(inputSize)}`);
  }
  if (inputSize[1] !== inputSize[2]) throw fail(`pretrained_cfg.input_size ${JSON.stringify(inputSize)} is not square, which finetorch's eval transform needs`);
  const cropPct = cfg.crop_pct || DEFAULTS.cropPct;
  if (typeof cropPct !== 'number' || !(cropPct > 0 && cropPct <= 1)) throw fail(`pretrained_cfg.crop_pct must be in (0, 1], got ${JSON.stringify(cropPct)}`);
  const cropMode = cfg.crop_mode || DEFAULTS.cropMode;
  if (cropMode !== 'center' && cropMode !== 'squash') throw fail(`pretrained_cfg.crop_mode '${String(cropMode)}' is not one finetorch follows (center, squash)`);
  const interpolation = cfg.interpolation || DEFAULTS.interpolation;
  if (interpolation !== 'bilinear' && interpolation !== 'bicubic' && interpolation !== 'nearest') {
    throw fail(`pretrained_cfg.interpolation '${String(interpolation)}' is not one finetorch resizes with (bilinear, bicubic, nearest)`);
  }
  const triple = (field: 'mean' | 'std') => {
    const value = cfg[field] || DEFAULTS[field];
    if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw fail(`pretrained_cfg.${field} must be three numbers, got ${JSON.stringify(value)}`);
    }
    if (field === 'std' && value.some((v) => v <= 0)) throw fail(`pretrained_cfg.std must be positive, got ${JSON.stringify(value)}`);
    return value as [number, number, number];
  };
  const labels = raw.label_names ?? cfg.label_names;
  return {
    architecture,
    vit: isVit ? timmVitConfig(architecture as TimmVitArch, modelArgs, cfg, (inputSize as number[])[1], fail) : undefined,
    numClasses: numClasses as number,
    tag: typeof cfg.tag === 'string' ? cfg.tag : undefined,
    inputSize: inputSize as [number, number, number],
    cropPct,
    cropMode,
    interpolation,
    mean: triple('mean'),
    std: triple('std'),
    labelNames: Array.isArray(labels) && labels.length === numClasses && labels.every((l) => typeof l === 'string') ? labels : undefined,
  };
}

/**
 * The ViT timm's create_model builds for `architecture`: its arguments, then model_args, the image
 * size passed from input_size (fixed_input_size) and global_pool from pretrained_cfg when given.
 */
function timmVitConfig(architecture: TimmVitArch, modelArgs: Record<string, unknown>, cfg: Record<string, unknown>, inputSide: number,
  fail: (detail: string) => Error): VitConfig {
  const named = parseVitArch(architecture)!;
  const arg = <T>(key: string, fallback: T, valid: (v: unknown) => boolean, what: string): T => {
    const value = modelArgs[key] ?? fallback;
    if (!valid(value)) throw fail(`model_args.${key} must be ${what}, got ${JSON.stringify(value)}`);
    return value as T;
  };
  const positive = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
  const boolean = (v: unknown) => typeof v === 'boolean';
  const imgSide = (v: unknown) => positive(v) || (Array.isArray(v) && v.length === 2 && positive(v[0]) && v[0] === v[1]);
  const imgSize = arg<number | number[]>('img_size', cfg.fixed_input_size ? inputSide : named.imgSize ?? 224, imgSide, 'a positive integer or a square [h, w]');
  const globalPool = arg<'token' | 'avg'>('global_pool', (cfg.global_pool ?? 'token') as 'token' | 'avg', (v) => v === 'token' || v === 'avg', "'token' or 'avg' (the poolings finetorch builds)");
  const fcNorm = arg<boolean | null>('fc_norm', null, (v) => v === null || boolean(v), 'true, false or null');
  const config: VitConfig = {
    imgSize: Array.isArray(imgSize) ? imgSize[0] : imgSize,
    patchSize: arg('patch_size', named.patchSize, positive, 'a positive integer'),
    embedDim: arg('embed_dim', named.embedDim, positive, 'a positive integer'),
    depth: arg('depth', named.depth, positive, 'a positive integer'),
    numHeads: arg('num_heads', named.numHeads, positive, 'a positive integer'),
    mlpRatio: arg('mlp_ratio', 4, (v) => typeof v === 'number' && v > 0, 'a positive number'),
    qkvBias: arg('qkv_bias', true, boolean, 'true or false'),
    classToken: arg('class_token', true, boolean, 'true or false'),
    globalPool,
    // timm's VisionTransformer: fc_norm None means "after the pool when the pool is 'avg'".
    fcNorm: fcNorm ?? globalPool === 'avg',
    dropPathRate: 0,
  };
  if (config.imgSize % config.patchSize !== 0 || config.embedDim % config.numHeads !== 0 || (config.globalPool === 'token' && !config.classToken)) {
    throw fail(`timm's ${architecture} with these model_args (${JSON.stringify(modelArgs)}) is no ViT finetorch builds`);
  }
  return config;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
