// The timm weights on the Hugging Face Hub that finetorch loads: timm 1.0.29's pretrained tags for
// the architectures it shares with torchvision, and for timm's plain ViTs
// (vit_<tiny|small|base|large|huge>_patch<P>_<size>, the VisionTransformer finetorch builds)
// (timm.list_pretrained('<arch>.*'), each hosted as timm/<arch>.<tag>). timm builds the ResNets with
// torchvision's module names and shapes; test/parity/hf-hub.test.ts checks these tables against timm itself.
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

/** timm's ViTs that finetorch builds (all of timm's vit_<size>_patch<P>_<image size>), with their pretrained tags. */
const VIT_TAGS = {
  vit_tiny_patch16_224: ['augreg_in21k', 'augreg_in21k_ft_in1k'],
  vit_tiny_patch16_384: ['augreg_in21k_ft_in1k'],
  vit_small_patch32_224: ['augreg_in21k', 'augreg_in21k_ft_in1k'],
  vit_small_patch32_384: ['augreg_in21k_ft_in1k'],
  vit_small_patch16_224: ['augreg_in1k', 'augreg_in21k', 'augreg_in21k_ft_in1k', 'dino'],
  vit_small_patch16_384: ['augreg_in1k', 'augreg_in21k_ft_in1k'],
  vit_small_patch8_224: ['dino'],
  vit_base_patch32_224: ['augreg_in1k', 'augreg_in21k', 'augreg_in21k_ft_in1k', 'orig_in21k', 'sam_in1k'],
  vit_base_patch32_384: ['augreg_in1k', 'augreg_in21k_ft_in1k'],
  vit_base_patch16_224: ['augreg2_in21k_ft_in1k', 'augreg_in1k', 'augreg_in21k', 'augreg_in21k_ft_in1k', 'dino', 'mae', 'orig_in21k',
    'orig_in21k_ft_in1k', 'sam_in1k'],
  vit_base_patch16_384: ['augreg_in1k', 'augreg_in21k_ft_in1k', 'orig_in21k_ft_in1k'],
  vit_base_patch8_224: ['augreg2_in21k_ft_in1k', 'augreg_in21k', 'augreg_in21k_ft_in1k', 'dino'],
  vit_large_patch32_224: ['orig_in21k'],
  vit_large_patch32_384: ['orig_in21k_ft_in1k'],
  vit_large_patch16_224: ['augreg_in21k', 'augreg_in21k_ft_in1k', 'mae', 'orig_in21k'],
  vit_large_patch16_384: ['augreg_in21k_ft_in1k'],
  vit_large_patch14_224: [],
  vit_huge_patch14_224: ['mae', 'orig_in21k'],
} as const satisfies Record<string, readonly string[]>;

export type TimmVitArch = keyof typeof VIT_TAGS;
export const TIMM_VIT_ARCHS = Object.keys(VIT_TAGS) as TimmVitArch[];

/** The prefix that marks a Hub id where a torchvision name or a file could stand (timm's own). */
export const HF_HUB_PREFIX = 'hf-hub:';

export interface HubWeightsEntry {
  /** 'hf-hub:timm/resnet50.a1_in1k' */
  id: string;
  /** timm's architecture: a ResNet's (torchvision's name) or a ViT's. */
  arch: Arch | TimmVitArch;
  tag: string;
}

/** Every timm checkpoint of finetorch's architectures on the Hub, by architecture: the ResNets, then the ViTs. */
export function listHubWeights(): HubWeightsEntry[] {
  const tags: [Arch | TimmVitArch, readonly string[]][] = [
    ...ARCH_NAMES.map((arch): [Arch, readonly string[]] => [arch, TAGS[arch]]), ...TIMM_VIT_ARCHS.map((arch): [TimmVitArch, readonly string[]] => [arch, VIT_TAGS[arch]]),
  ];
  return tags.flatMap(([arch, archTags]) => archTags.map((tag) => ({ id: `${HF_HUB_PREFIX}timm/${arch}.${tag}`, arch, tag })));
}

export function isHubId(value: unknown): value is `hf-hub:${string}` {
  return typeof value === 'string' && value.startsWith(HF_HUB_PREFIX);
}
