// timm's VisionTransformer (timm/models/vision_transformer.py, timm 1.0), the class MAE's
// models_vit.py subclasses: patch embedding (a strided conv), class token, learned position
// embedding, pre-norm blocks (LayerNorm, multi-head self-attention with a fused qkv, LayerNorm, MLP
// with exact GELU), then either the final norm and the class token, or MAE's global average pool
// over the patch tokens and fc_norm; a linear head. Module names are timm's state_dict keys, and a
// seeded model draws timm's initialisation in timm's order.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>

#include "core/nn/classifier.h"

namespace finetorch {

enum class VitPool { kToken, kAvg };  // timm's global_pool 'token' (class token) or 'avg'

struct VitConfig {
  int64_t imgSize = 224;
  int64_t patchSize = 16;
  int64_t embedDim = 768;
  int64_t depth = 12;
  int64_t numHeads = 12;
  double mlpRatio = 4.0;
  bool qkvBias = true;
  bool classToken = true;
  VitPool globalPool = VitPool::kToken;
  // LayerNorm after the pool (fc_norm) instead of before it (norm); timm's default: globalPool avg.
  bool fcNorm = false;
  // Stochastic depth: block i drops its residual branches with probability
  // dropPathRate * i / (depth - 1) in training (timm's linspace rule).
  double dropPathRate = 0.0;

  int64_t gridSize() const { return imgSize / patchSize; }
  int64_t numPrefixTokens() const { return classToken ? 1 : 0; }
  int64_t mlpHidden() const { return static_cast<int64_t>(static_cast<double>(embedDim) * mlpRatio); }
  // Throws kBadInput for sizes timm would refuse or silently truncate.
  void check() const;
};

struct PatchEmbedImpl : torch::nn::Module {
  PatchEmbedImpl(int64_t patchSize, int64_t embedDim);
  torch::Tensor forward(torch::Tensor images);  // [N, 3, H, W] -> [N, H/p * W/p, D]

  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int64_t dim, int64_t numHeads, bool qkvBias);
  torch::Tensor forward(torch::Tensor x);

  int64_t numHeads;
  torch::nn::Linear qkv{nullptr}, proj{nullptr};
};
TORCH_MODULE(Attention);

struct MlpImpl : torch::nn::Module {
  MlpImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

struct BlockImpl : torch::nn::Module {
  BlockImpl(const VitConfig& config, double dropPath);
  torch::Tensor forward(torch::Tensor x);

  double dropPath;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};

 private:
  torch::Tensor dropPathOf(torch::Tensor branch);
};
TORCH_MODULE(Block);

struct VisionTransformerImpl : ClassifierImpl {
  VisionTransformerImpl(const VitConfig& config, int64_t numClasses);
  // The pooled tokens after the final norm or fc_norm: timm's forward_head(pre_logits=True).
  torch::Tensor features(torch::Tensor images) override;
  int64_t numFeatures() const override { return config.embedDim; }
  std::string className() const override { return "VisionTransformer"; }
  void checkImages(const torch::Tensor& images) const override;
  // Stochastic depth from now on (MAE's fine-tuning builds its model with drop_path 0.1), by
  // timm's linspace rule; no parameter changes.
  void setDropPathRate(double rate);

  VitConfig config;
  torch::Tensor cls_token, pos_embed;
  PatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};     // when !fcNorm
  torch::nn::LayerNorm fc_norm{nullptr};  // when fcNorm
};
TORCH_MODULE(VisionTransformer);

}  // namespace finetorch
