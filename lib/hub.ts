// Pretrained weights, fetched the way their publishers' code fetches them: torchvision's ResNet
// weights (the same URLs and weight names: torchvision 0.14's ResNet*_Weights enums) and MAE's
// pre-trained ViT encoders (the URLs of its README), kept in torch.hub's cache
// ($TORCH_HOME/hub/checkpoints) so that PyTorch and finetorch share one copy. A file already in the
// cache is used without any network access, as torch.hub.load_state_dict_from_url does.
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs/promises';
import { ARCH_NAMES, Arch } from './architectures';
import { Parsed, bool, checkArg, checkOptions, describe, oneOf, str } from './check';
import { DownloadError, TRANSFER_RULES, downloadUrlToFile, hashPrefixOf, wrongDigest } from './download';
import { withCode } from './errors';

/** Where torchvision publishes its weights. */
export const TORCHVISION_BASE_URL = 'https://download.pytorch.org/models/';

/** torchvision's names of the published weights ('DEFAULT' stands for one of them, per architecture). */
export const WEIGHTS_NAMES = ['IMAGENET1K_V1', 'IMAGENET1K_V2'] as const;
export type WeightsName = (typeof WEIGHTS_NAMES)[number];

/** One published set of weights: torchvision's `Weights` entry. */
export interface WeightsInfo {
  arch: Arch;
  name: WeightsName;
  /** torchvision's name for it, e.g. 'ResNet50_Weights.IMAGENET1K_V2'. */
  enumName: string;
  url: string;
  fileName: string;
  numParams: number;
  /** Top-1 and top-5 ImageNet-1K accuracy (%) as torchvision reports them. */
  imagenet: { acc1: number; acc5: number };
  /** torchvision's eval transform for them: resize the short side to resizeSize, centre-crop cropSize. */
  transforms: { resizeSize: number; cropSize: number };
}

type Entry = [fileName: string, numParams: number, acc1: number, acc5: number, resizeSize: number];
interface ArchWeights { enumClass: string; default: WeightsName; weights: Partial<Record<WeightsName, Entry>> }

// torchvision 0.14, torchvision/models/resnet.py. DEFAULT is torchvision's: the best published set.
const TABLE: Record<Arch, ArchWeights> = {
  resnet18: { enumClass: 'ResNet18_Weights', default: 'IMAGENET1K_V1', weights: {
    IMAGENET1K_V1: ['resnet18-f37072fd.pth', 11689512, 69.758, 89.078, 256] } },
  resnet34: { enumClass: 'ResNet34_Weights', default: 'IMAGENET1K_V1', weights: {
    IMAGENET1K_V1: ['resnet34-b627a593.pth', 21797672, 73.314, 91.420, 256] } },
  resnet50: { enumClass: 'ResNet50_Weights', default: 'IMAGENET1K_V2', weights: {
    IMAGENET1K_V1: ['resnet50-0676ba61.pth', 25557032, 76.130, 92.862, 256],
    IMAGENET1K_V2: ['resnet50-11ad3fa6.pth', 25557032, 80.858, 95.434, 232] } },
  resnet101: { enumClass: 'ResNet101_Weights', default: 'IMAGENET1K_V2', weights: {
    IMAGENET1K_V1: ['resnet101-63fe2227.pth', 44549160, 77.374, 93.546, 256],
    IMAGENET1K_V2: ['resnet101-cd907fc2.pth', 44549160, 81.886, 95.780, 232] } },
  resnet152: { enumClass: 'ResNet152_Weights', default: 'IMAGENET1K_V2', weights: {
    IMAGENET1K_V1: ['resnet152-394f9c45.pth', 60192808, 78.312, 94.046, 256],
    IMAGENET1K_V2: ['resnet152-f82ba261.pth', 60192808, 82.284, 96.002, 232] } },
  resnext50_32x4d: { enumClass: 'ResNeXt50_32X4D_Weights', default: 'IMAGENET1K_V2', weights: {
    IMAGENET1K_V1: ['resnext50_32x4d-7cdf4587.pth', 25028904, 77.618, 93.698, 256],
    IMAGENET1K_V2: ['resnext50_32x4d-1a0047aa.pth', 25028904, 81.198, 95.340, 232] } },
  resnext101_32x8d: { enumClass: 'ResNeXt101_32X8D_Weights', default: 'IMAGENET1K_V2', weights: {
    IMAGENET1K_V1: ['resnext101_32x8d-8ba56ff5.pth', 88791336, 79.312, 94.526, 256],
    IMAGENET1K_V2: ['resnext101_32x8d-110c445d.pth', 88791336, 82.834, 96.228, 232] } },
  resnext101_64x4d: { enumClass: 'ResNeXt101_64X4D_Weights', default: 'IMAGENET1K_V1', weights: {
    IMAGENET1K_V1: ['resnext101_64x4d-173b62eb.pth', 83455272, 83.246, 96.454, 232] } },
  wide_resnet50_2: { enumClass: 'Wide_ResNet50_2_Weights', default: 'IMAGENET1K_V2', weights: {
    IMAGENET1K_V1: ['wide_resnet50_2-95faca4d.pth', 68883240, 78.468, 94.086, 256],
    IMAGENET1K_V2: ['wide_resnet50_2-9ba9bcbe.pth', 68883240, 81.602, 95.758, 232] } },
  wide_resnet101_2: { enumClass: 'Wide_ResNet101_2_Weights', default: 'IMAGENET1K_V2', weights: {
    IMAGENET1K_V1: ['wide_resnet101_2-32ee1156.pth', 126886696, 78.848, 94.284, 256],
    IMAGENET1K_V2: ['wide_resnet101_2-d733dc28.pth', 126886696, 82.510, 96.020, 232] } },
};

/** The environment variable that replaces TORCHVISION_BASE_URL (a mirror; the tests' local server). */
export const BASE_URL_ENV = 'FINETORCH_WEIGHTS_BASE_URL';

/**
 * torch.hub.get_dir(): `$TORCH_HOME/hub`, where TORCH_HOME defaults to `$XDG_CACHE_HOME/torch` and
 * XDG_CACHE_HOME to `~/.cache`.
 */
export function hubDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const expandUser = (p: string) => (p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p);
  return path.join(expandUser(env.TORCH_HOME ?? path.join(env.XDG_CACHE_HOME ?? '~/.cache', 'torch')), 'hub');
}

/**
 * The weights published for `arch`: `weights` is 'DEFAULT' (torchvision's best set for the arch:
 * IMAGENET1K_V1 for resnet18, resnet34 and resnext101_64x4d, IMAGENET1K_V2 for the others),
 * 'IMAGENET1K_V1', 'IMAGENET1K_V2', or torchvision's full name ('ResNet50_Weights.IMAGENET1K_V2').
 * torchvision's legacy `pretrained=True` means IMAGENET1K_V1.
 */
export function weightsInfo(arch: Arch, weights = 'DEFAULT'): WeightsInfo {
  const where = 'weightsInfo';
  checkArch(where, arch);
  checkArg(where, 'weights', weights, str());
  const entry = TABLE[arch];
  const [enumClass, member] = weights.includes('.') ? weights.split('.', 2) : [entry.enumClass, weights];
  const name = (member === 'DEFAULT' ? entry.default : member) as WeightsName;
  const row = entry.weights[name];
  if (enumClass !== entry.enumClass || !row) {
    const known = ['DEFAULT', ...Object.keys(entry.weights)].map((k) => `'${k}'`);
    throw withCode(new RangeError(`${where}: weights must be one of ${known.join(', ')} (${entry.enumClass}) for ${arch}, ` +
      `got ${describe(weights)}`), 'ERR_FINETORCH_INVALID_ARG');
  }
  const [fileName, numParams, acc1, acc5, resizeSize] = row;
  return {
    arch, name, enumName: `${entry.enumClass}.${name}`, url: TORCHVISION_BASE_URL + fileName, fileName, numParams,
    imagenet: { acc1, acc5 }, transforms: { resizeSize, cropSize: 224 },
  };
}

/** Every published set, and whether it is its arch's DEFAULT. */
export function listWeights(): (WeightsInfo & { isDefault: boolean })[] {
  return ARCH_NAMES.flatMap((arch) => WEIGHTS_NAMES.filter((name) => TABLE[arch].weights[name])
    .map((name) => ({ ...weightsInfo(arch, name), isDefault: TABLE[arch].default === name })));
}

export interface PretrainedOptions {
  /** 'DEFAULT' (default), 'IMAGENET1K_V1', 'IMAGENET1K_V2' or torchvision's full enum name. */
  weights?: string;
  /** The cache folder (torch.hub's model_dir); default `hubDir()/checkpoints`. */
  modelDir?: string;
  /** Where the files are published; default $FINETORCH_WEIGHTS_BASE_URL, else download.pytorch.org/models/. */
  baseUrl?: string;
  /** A download progress line on stderr; default: when stderr is a terminal. */
  progress?: boolean;
  /** Check the SHA-256 of a file already in the cache too (torch.hub trusts it; so does the default). */
  verifyCached?: boolean;
  /** How many times a cut connection is resumed within the call (default 2). */
  retries?: number;
  /** Milliseconds without data before the connection counts as cut (default 30000). */
  timeout?: number;
}

export interface PretrainedWeights extends WeightsInfo {
  /** The .pth file in the cache. */
  file: string;
  /** Whether this call downloaded it (false: it was already in the cache). */
  downloaded: boolean;
}

/**
 * torchvision's pretrained weights for `arch` as a .pth file in torch.hub's cache, downloaded
 * (verified against the hash prefix in its name, resumable) when not there yet:
 *
 *     const { file } = await pretrainedWeights('resnet18');   // ~/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth
 *     const net = await ResNet18.load(file);
 *
 * Errors carry a code: ERR_FINETORCH_NETWORK (offline and not cached), ERR_FINETORCH_HTTP,
 * ERR_FINETORCH_DOWNLOAD_INTERRUPTED (the bytes are kept; the next call resumes),
 * ERR_FINETORCH_HASH_MISMATCH.
 */
export async function pretrainedWeights(arch: Arch, options: PretrainedOptions = {}): Promise<PretrainedWeights> {
  const o = checkOptions('pretrainedWeights', options, { weights: str().default('DEFAULT'), ...TRANSFER_SCHEMA });
  checkArch('pretrainedWeights', arch);
  const published = weightsInfo(arch, o.weights);
  const url = publishedUrl(o.baseUrl ?? process.env[BASE_URL_ENV] ?? TORCHVISION_BASE_URL, published.fileName);
  return { ...published, url, ...await cachedDownload(url, published.fileName, { sha256: hashPrefixOf(published.fileName) }, o) };
}

/** Where MAE publishes its pre-trained encoders (facebookresearch/mae, README). */
export const MAE_BASE_URL = 'https://dl.fbaipublicfiles.com/mae/pretrain/';
/** The environment variable that replaces MAE_BASE_URL (a mirror; the tests' local server). */
export const MAE_BASE_URL_ENV = 'FINETORCH_MAE_BASE_URL';

export const MAE_WEIGHTS_NAMES = ['mae_pretrain_vit_base', 'mae_pretrain_vit_large', 'mae_pretrain_vit_huge'] as const;
export type MaeWeightsName = (typeof MAE_WEIGHTS_NAMES)[number];

// MAE's README, "Fine-tuning with pre-trained checkpoints": the encoder each file holds (its
// models_vit.py name) and the MD5 prefix published beside it, the only hash published for them.
const MAE_TABLE: Record<MaeWeightsName, [arch: string, md5Prefix: string]> = {
  mae_pretrain_vit_base: ['vit_base_patch16', '8cad7c'],
  mae_pretrain_vit_large: ['vit_large_patch16', 'b8b06e'],
  mae_pretrain_vit_huge: ['vit_huge_patch14', '9bdbb0'],
};

export interface MaePretrainedWeights {
  name: MaeWeightsName;
  /** MAE's models_vit.py name of the encoder (224 px images, no head). */
  arch: string;
  url: string;
  fileName: string;
  /** The start of the file's MD5, as MAE's README publishes it; downloads are checked against it. */
  md5Prefix: string;
  /** The .pth file in the cache. */
  file: string;
  /** Whether this call downloaded it (false: it was already in the cache). */
  downloaded: boolean;
}

/**
 * MAE's pre-trained ViT encoder (`{'model': state_dict}` in timm's keys, no head) as a .pth file in
 * torch.hub's cache, downloaded (resumable, checked against the MD5 prefix MAE's README
 * publishes) when not there yet. Errors carry the codes of {@link pretrainedWeights}.
 */
export async function maePretrainedWeights(name: MaeWeightsName = 'mae_pretrain_vit_base',
  options: Omit<PretrainedOptions, 'weights'> = {}): Promise<MaePretrainedWeights> {
  checkArg('maePretrainedWeights', 'name', name, oneOf(MAE_WEIGHTS_NAMES));
  const o = checkOptions('maePretrainedWeights', options, TRANSFER_SCHEMA);
  const [arch, md5Prefix] = MAE_TABLE[name];
  const fileName = `${name}.pth`;
  const url = publishedUrl(o.baseUrl ?? process.env[MAE_BASE_URL_ENV] ?? MAE_BASE_URL, fileName);
  return { name, arch, url, fileName, md5Prefix, ...await cachedDownload(url, fileName, { md5: md5Prefix }, o) };
}

const TRANSFER_SCHEMA = {
  modelDir: str().orUndefined(),
  baseUrl: str().where('(an http or https URL)', (u) => /^https?:\/\//.test(u)).orUndefined(),
  progress: bool().default(Boolean(process.stderr.isTTY)),
  verifyCached: bool().default(false),
  ...TRANSFER_RULES,
};
type Transfer = Parsed<typeof TRANSFER_SCHEMA>;

function publishedUrl(baseUrl: string, fileName: string): string {
  return new URL(fileName, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
}

/** `fileName` in the cache folder: used when there (checked first with verifyCached), else downloaded into it and checked. */
async function cachedDownload(url: string, fileName: string, prefixes: { sha256?: string; md5?: string }, o: Transfer):
  Promise<{ file: string; downloaded: boolean }> {
  const file = path.join(o.modelDir ?? path.join(hubDir(), 'checkpoints'), fileName);
  if (await exists(file)) {
    if (o.verifyCached) await verifyFile(file, url, prefixes);
    return { file, downloaded: false };
  }
  if (o.progress) process.stderr.write(`Downloading: "${url}" to ${file}\n`);
  await downloadUrlToFile(url, file, { hashPrefix: prefixes.sha256, md5Prefix: prefixes.md5, progress: o.progress, retries: o.retries, timeout: o.timeout });
  return { file, downloaded: true };
}

/** `arch` as a known architecture; a misspelt one gets a suggestion ('resnet-18' -> 'resnet18'). */
export function checkArch(where: string, arch: unknown): Arch {
  return checkArg(where, 'arch', arch, oneOf(ARCH_NAMES));
}

async function verifyFile(file: string, url: string, prefixes: { sha256?: string; md5?: string }): Promise<void> {
  const wrong = await wrongDigest(file, prefixes);
  if (wrong) throw new DownloadError('ERR_FINETORCH_HASH_MISMATCH', `${file}: invalid hash value (${wrong}); delete it to download ${url} again`, url);
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}
