// MAE's pre-trained ViT encoders (facebookresearch/mae, README "Fine-tuning with pre-trained
// checkpoints"), fetched from the URLs it publishes into torch.hub's cache, as torchvision's
// weights are (model/torchvision-weights.ts), and checked against the MD5 prefixes it publishes,
// the only hashes published for them.
import { checkArg, checkOptions, oneOf } from '../base/check';
import { CACHED_DOWNLOAD_RULES, PretrainedOptions, cachedDownload, publishedUrl } from './torchvision-weights';

/** Where MAE publishes its pre-trained encoders (facebookresearch/mae, README). */
export const MAE_BASE_URL = 'https://dl.fbaipublicfiles.com/mae/pretrain/';
/** The environment variable that replaces MAE_BASE_URL (a mirror; the tests' local server). */
export const MAE_BASE_URL_ENV = 'FINETORCH_MAE_BASE_URL';

export const MAE_WEIGHTS_NAMES = ['mae_pretrain_vit_base', 'mae_pretrain_vit_large', 'mae_pretrain_vit_huge'] as const;
export type MaeWeightsName = (typeof MAE_WEIGHTS_NAMES)[number];

// The encoder each file holds (its models_vit.py name) and the MD5 prefix MAE's README publishes beside it.
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
  const o = checkOptions('maePretrainedWeights', options, CACHED_DOWNLOAD_RULES);
  const [arch, md5Prefix] = MAE_TABLE[name];
  const fileName = `${name}.pth`;
  const url = publishedUrl(o.baseUrl ?? process.env[MAE_BASE_URL_ENV] ?? MAE_BASE_URL, fileName);
  const offline = (dir: string) => `bring ${fileName} from a machine that has it (in its torch.hub cache, or from ` +
    `${MAE_BASE_URL}${fileName}) and copy it into ${dir}; or point baseUrl ($${MAE_BASE_URL_ENV}) at a mirror`;
  return { name, arch, url, fileName, md5Prefix, ...await cachedDownload(url, fileName, { md5Prefix }, o, offline) };
}
