// MAE's named sizes, apart from the model so that the command line lists them without loading LibTorch.

/**
 * MAE's named sizes (models_mae.py): ViT-B/16, ViT-L/16 and ViT-H/14 encoders at 224 px, each with
 * the 512-wide, 8-block, 16-head decoder, MLP ratio 4.
 */
export const MAE_ARCHS = {
  mae_vit_base_patch16: { patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 },
  mae_vit_large_patch16: { patchSize: 16, embedDim: 1024, depth: 24, numHeads: 16 },
  mae_vit_huge_patch14: { patchSize: 14, embedDim: 1280, depth: 32, numHeads: 16 },
} as const;
export type MaeArch = keyof typeof MAE_ARCHS;
