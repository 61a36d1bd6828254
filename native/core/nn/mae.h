// MAE's MaskedAutoencoderViT (facebookresearch/mae models_mae.py): a ViT encoder (timm's patch
// embedding, class token, pre-norm blocks, final norm) that runs on the visible patches only, with
// a fixed 2-D sine-cosine position embedding; a light decoder (decoder_embed, mask_token, its own
// fixed position embedding, blocks, decoder_norm, decoder_pred) that predicts every patch's pixels;
// the loss is the mean squared error on the masked patches, against per-patch normalised pixels
// when normPixLoss. Module names are MAE's state_dict keys, and a seeded model draws MAE's
// initialisation in MAE's order.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>

#include "core/nn/vit.h"

namespace finetorch {

struct MaeConfig {
  // imgSize, patchSize, embedDim, depth, numHeads, mlpRatio; MAE's blocks have a qkv bias and the
  // encoder a class token, its final norm and no head.
  VitConfig encoder;
  int64_t decoderEmbedDim = 512;
  int64_t decoderDepth = 8;
  int64_t decoderNumHeads = 16;
  bool normPixLoss = false;

  // The decoder's blocks as a ViT of the decoder's width (the encoder's mlpRatio, as MAE).
  VitConfig decoder() const;
  int64_t numPatches() const { return encoder.gridSize() * encoder.gridSize(); }
  int64_t patchPixels() const { return encoder.patchSize * encoder.patchSize * 3; }
  // Throws kBadInput for sizes MAE cannot build.
  void check() const;
};

struct MaeOutput {
  torch::Tensor loss;        // scalar
  torch::Tensor pred;        // [N, L, p*p*3]: every patch's predicted pixels (normalised when normPixLoss)
  torch::Tensor mask;        // [N, L]: 1 where the patch was masked
  torch::Tensor idsRestore;  // [N, L]
};

struct MaskedAutoencoderImpl : torch::nn::Module {
  explicit MaskedAutoencoderImpl(const MaeConfig& config);

  // images [N, 3, imgSize, imgSize]; noise [N, L] decides the mask (see core/nn/masking.h).
  MaeOutput forward(const torch::Tensor& images, const torch::Tensor& noise, double maskRatio);
  // [N, 3, H, W] -> [N, L, p*p*3], each patch's pixels row by row, channels last (MAE's patchify).
  torch::Tensor patchify(const torch::Tensor& images) const;
  // Throws kBadInput when images or noise do not fit this model, or the ratio masks no patch.
  void checkInput(const torch::Tensor& images, const torch::Tensor& noise, double maskRatio) const;

  const MaeConfig config;
  torch::Tensor cls_token, pos_embed, mask_token, decoder_pos_embed;
  PatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks{nullptr}, decoder_blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr}, decoder_norm{nullptr};
  torch::nn::Linear decoder_embed{nullptr}, decoder_pred{nullptr};

 private:
  // The encoder's output on the visible patches, class token first: [N, 1 + keep, D].
  torch::Tensor forwardEncoder(const torch::Tensor& images, const torch::Tensor& noise, double maskRatio,
                               MaeOutput& out);
  torch::Tensor forwardDecoder(const torch::Tensor& latent, const torch::Tensor& idsRestore);
  torch::Tensor forwardLoss(const torch::Tensor& images, const torch::Tensor& pred, const torch::Tensor& mask) const;
};
TORCH_MODULE(MaskedAutoencoder);

}  // namespace finetorch
