// The small MAEs the parity tests run on both sides: MaskedAutoencoderViT's arguments and
// MaskedAutoencoder.create's for the same model.
import type { MaeCreateOptions } from '../../lib';

export interface MaeCase {
  /** MaskedAutoencoderViT's arguments. */
  mae: Record<string, number | boolean>;
  finetorch: MaeCreateOptions;
  maskRatio: number;
}

/** 32 px, 8 px patches: 16 patches, a 2-block encoder and a 1-block decoder. */
export const SMALL_MAE: MaeCase = {
  mae: { img_size: 32, patch_size: 8, embed_dim: 32, depth: 2, num_heads: 2, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2, mlp_ratio: 2.0 },
  finetorch: { imgSize: 32, patchSize: 8, embedDim: 32, depth: 2, numHeads: 2, decoderEmbedDim: 16, decoderDepth: 1, decoderNumHeads: 2, mlpRatio: 2 },
  maskRatio: 0.75,
};

/** 32 px, 4 px patches (64), norm_pix_loss, masking 60%. */
export const NORM_PIX_MAE: MaeCase = {
  mae: { img_size: 32, patch_size: 4, embed_dim: 48, depth: 2, num_heads: 3, decoder_embed_dim: 32, decoder_depth: 2, decoder_num_heads: 4, norm_pix_loss: true },
  finetorch: { imgSize: 32, patchSize: 4, embedDim: 48, depth: 2, numHeads: 3, decoderEmbedDim: 32, decoderDepth: 2, decoderNumHeads: 4, normPixLoss: true, mlpRatio: 4 },
  maskRatio: 0.6,
};
