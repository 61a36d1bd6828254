// Pretrained ResNet weights from their two sources. torchvision's, fetched the way torchvision
// fetches them: the same URLs and weight names (torchvision 0.14's ResNet*_Weights enums), kept in
// torch.hub's cache ($TORCH_HOME/hub/checkpoints) so that PyTorch and finetorch share one copy; a
// file already in the cache is used without any network access, as
// torch.hub.load_state_dict_from_url does. timm's, from the Hugging Face Hub ('hf-hub:' ids, see
// timm-weights.ts), kept in the Hub cache that Python's huggingface_hub shares.
import * as path from 'node:path';
import * as fs from 'node:fs/promises';
import { ARCH_NAMES, Arch } from './resnet-architectures';
import { Parsed, bool, checkArg, checkOptions, describe, oneOf, str } from '../base/check';
import { DownloadError, DownloadOptions, TRANSFER_RULES, downloadUrlToFile, hashMismatch, hashPrefixOf } from '../hub/download';
import { fileIntoCache, hubDir } from '../hub/torch-hub';
import { hasCode, rangeError } from '../base/errors';
import { HubDownloadOptions, HubWeights, hubPretrainedWeights } from './timm-weights';
import { isHubId } from './timm-ids';

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
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: weights must be one of ${known.join(', ')} (${entry.enumClass}) for ${arch}, ` +
      `got ${describe(weights)}`);
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

/** @internal The rules of PretrainedOptions but `weights` (MAE's downloads take them too). */
export const CACHED_DOWNLOAD_RULES = {
  modelDir: str().orUndefined(),
  baseUrl: str().where('(an http or https URL)', (u) => /^https?:\/\//.test(u)).orUndefined(),
  progress: bool().default(Boolean(process.stderr.isTTY)),
  verifyCached: bool().default(false),
  ...TRANSFER_RULES,
};

/** @internal PretrainedOptions' rules (ResNet.pretrained takes them too). */
export const PRETRAINED_RULES = { weights: str().default('DEFAULT'), ...CACHED_DOWNLOAD_RULES };

export interface PretrainedWeights extends WeightsInfo {
  /** The .pth file in the cache. */
  file: string;
  /** Whether this call downloaded it (false: it was already in the cache). */
  downloaded: boolean;
}

/**
 * Pretrained weights as a file in the cache their source shares with Python, downloaded
 * (verified, resumable) when not there yet. For an architecture, torchvision's .pth in torch.hub's
 * cache, checked against the hash prefix in its name:
 *
 *     const { file } = await pretrainedWeights('resnet18');   // ~/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth
 *     const net = await ResNet18.load(file);
 *
 * For an 'hf-hub:' id, timm's weights from the Hugging Face Hub and their config.json (see
 * {@link HubWeights}: the eval transform timm applies), in the Hub cache:
 *
 *     const { file, config } = await pretrainedWeights('hf-hub:timm/resnet50.a1_in1k');
 *     // ~/.cache/huggingface/hub/models--timm--resnet50.a1_in1k/snapshots/<commit>/model.safetensors
 *
 * Errors carry a code: ERR_FINETORCH_NETWORK (offline and not cached), ERR_FINETORCH_HTTP,
 * ERR_FINETORCH_DOWNLOAD_INTERRUPTED (the bytes are kept; the next call resumes),
 * ERR_FINETORCH_HASH_MISMATCH; for the Hub also ERR_FINETORCH_HUB.
 */
export async function pretrainedWeights(arch: Arch, options?: PretrainedOptions): Promise<PretrainedWeights>;
export async function pretrainedWeights(id: `hf-hub:${string}`, options?: HubDownloadOptions): Promise<HubWeights>;
export async function pretrainedWeights(source: Arch | `hf-hub:${string}`, options: PretrainedOptions | HubDownloadOptions = {}): Promise<PretrainedWeights | HubWeights> {
  if (isHubId(source)) return hubPretrainedWeights(source, options as HubDownloadOptions);
  return torchvisionWeights(source, options as PretrainedOptions);
}

async function torchvisionWeights(arch: Arch, options: PretrainedOptions): Promise<PretrainedWeights> {
  const o = checkOptions('pretrainedWeights', options, PRETRAINED_RULES);
  checkArch('pretrainedWeights', arch);
  const published = weightsInfo(arch, o.weights);
  const url = publishedUrl(o.baseUrl ?? process.env[BASE_URL_ENV] ?? TORCHVISION_BASE_URL, published.fileName);
  const offline = (dir: string) => `bring ${published.fileName} from a machine that has it (in its torch.hub cache, or from ` +
    `${published.url}) and file it with 'finetorch weights import FILE' (importWeights(file)), or copy it into ${dir}; ` +
    `or point baseUrl ($${BASE_URL_ENV}, --base-url) at a mirror`;
  return { ...published, url, ...await cachedDownload(url, published.fileName, { hashPrefix: hashPrefixOf(published.fileName) }, o, offline) };
}

/** @internal `fileName` resolved against a base URL (with or without its final '/'). */
export function publishedUrl(baseUrl: string, fileName: string): string {
  return new URL(fileName, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
}

/**
 * @internal `fileName` in the torch.hub cache folder: used when there (checked first with
 * verifyCached), else downloaded into it and checked against `expected`; without network, the
 * error says what would do instead (`offline`, given the cache folder).
 */
export async function cachedDownload(url: string, fileName: string, expected: Pick<DownloadOptions, 'hashPrefix' | 'md5Prefix'>,
  o: Parsed<typeof CACHED_DOWNLOAD_RULES>, offline: (dir: string) => string): Promise<{ file: string; downloaded: boolean }> {
  const file = path.join(o.modelDir ?? path.join(hubDir(), 'checkpoints'), fileName);
  if (await exists(file)) {
    if (o.verifyCached) await verifyFile(file, url, expected);
    return { file, downloaded: false };
  }
  if (o.progress) process.stderr.write(`Downloading: "${url}" to ${file}\n`);
  try {
    await downloadUrlToFile(url, file, { ...expected, progress: o.progress, retries: o.retries, timeout: o.timeout });
  } catch (err) {
    if (!hasCode(err, 'ERR_FINETORCH_NETWORK')) throw err;
    throw new DownloadError('ERR_FINETORCH_NETWORK', `${(err as Error).message}. Without network, ${offline(path.dirname(file))}`,
      url, undefined, { cause: err });
  }
  return { file, downloaded: true };
}

/**
 * Files a copy of torchvision's published weights (brought from another machine, downloaded by a
 * browser) into torch.hub's cache under its published name, once its SHA-256 starts with the prefix
 * that name carries, as torch.hub checks a download: pretrainedWeights (and PyTorch) then find it
 * without the network. A state dict saved again by torch.save is another file, and is refused.
 */
export async function importWeights(file: string, options: { modelDir?: string } = {}): Promise<PretrainedWeights> {
  const o = checkOptions('importWeights', options, { modelDir: str().orUndefined() });
  checkArg('importWeights', 'file', file, str());
  return fileIntoCache(file, listWeights(), o.modelDir ?? path.join(hubDir(), 'checkpoints'));
}

/** `arch` as a known architecture; a misspelt one gets a suggestion ('resnet-18' -> 'resnet18'). */
export function checkArch(where: string, arch: unknown): Arch {
  return checkArg(where, 'arch', arch, oneOf(ARCH_NAMES));
}

async function verifyFile(file: string, url: string, expected: Pick<DownloadOptions, 'hashPrefix' | 'md5Prefix'>): Promise<void> {
  const mismatch = await hashMismatch(file, expected);
  if (mismatch) throw new DownloadError('ERR_FINETORCH_HASH_MISMATCH', `${file}: invalid hash value (${mismatch}); delete it to download ${url} again`, url);
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}
