// The timm weights on the Hugging Face Hub that finetorch loads: timm 1.0.29's pretrained tags for
// the architectures it shares with torchvision (timm.list_pretrained('<arch>.*'), each hosted as
// timm/<arch>.<tag>). timm builds these architectures with torchvision's module names and shapes;
// test/parity/hf-hub.test.ts checks this table against timm itself.
import { ARCH_NAMES, Arch } from './resnet-architectures';

const TAGS: Record<Arch, readonly string[]> = {
  resnet18: ['a1_in1k', 'a2_in1k', 'a3_in1k', 'fb_ssl_yfcc100m_ft_in1k', 'fb_swsl_ig1b_ft_in1k', 'gluon_in1k', 'tv_in1k'],
  resnet34: ['a1_in1k', 'a2_in1k', 'a3_in1k', 'bt_in1k', 'gluon_in1k', 'ra4_e3600_r224_in1k', 'tv_in1k'],
  resnet50: ['a1_in1k', 'a1h_in1k', 'a2_in1k', 'a3_in1k', 'am_in1k', 'b1k_in1k', 'b2k_in1k', 'bt_in1k', 'c1_in1k', 'c2_in1k', 'd_in1k',
    'fb_ssl_yfcc100m_ft_in1k', 'fb_swsl_ig1b_ft_in1k', 'gluon_in1k', 'ra_in1k', 'ram_in1k', 'tv2_in1k', 'tv_in1k'],
  resnet101: ['a1_in1k', 'a1h_in1k', 'a2_in1k', 'a3_in1k', 'gluon_in1k', 'tv2_in1k', 'tv_in1k'],
  resnet152: ['a1_in1k', 'a1h_in1k', 'a2_in1k', 'a3_in1k', 'gluon_in1k', 'tv2_in1k', 'tv_in1k'],
  resnext50_32x4d: ['a1_in1k', 'a1h_in1k', 'a2_in1k', 'a3_in1k', 'fb_ssl_yfcc100m_ft_in1k', 'fb_swsl_ig1b_ft_in1k', 'gluon_in1k', 'ra_in1k',
    'tv2_in1k', 'tv_in1k'],
  resnext101_32x8d: ['fb_ssl_yfcc100m_ft_in1k', 'fb_swsl_ig1b_ft_in1k', 'fb_wsl_ig1b_ft_in1k', 'tv2_in1k', 'tv_in1k'],
  resnext101_64x4d: ['c1_in1k', 'gluon_in1k', 'tv_in1k'],
  wide_resnet50_2: ['racm_in1k', 'tv2_in1k', 'tv_in1k'],
  wide_resnet101_2: ['tv2_in1k', 'tv_in1k'],
};

/** The prefix that marks a Hub id where a torchvision name or a file could stand (timm's own). */
export const HF_HUB_PREFIX = 'hf-hub:';

export interface HubWeightsEntry {
  /** 'hf-hub:timm/resnet50.a1_in1k' */
  id: string;
  arch: Arch;
  tag: string;
}

/** Every timm checkpoint of finetorch's architectures on the Hub, by architecture. */
export function listHubWeights(): HubWeightsEntry[] {
  return ARCH_NAMES.flatMap((arch) => TAGS[arch].map((tag) => ({ id: `${HF_HUB_PREFIX}timm/${arch}.${tag}`, arch, tag })));
}

export function isHubId(value: unknown): value is `hf-hub:${string}` {
  return typeof value === 'string' && value.startsWith(HF_HUB_PREFIX);
}
