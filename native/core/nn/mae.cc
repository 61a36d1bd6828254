#include "core/nn/mae.h"

#include <string>
#include <utility>

#include "core/error.h"
#include "core/nn/masking.h"
#include "core/nn/pos_embed.h"

namespace finetorch {
namespace nn = torch::nn;

namespace {

nn::LayerNorm Norm(int64_t dim) {
  return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-6));
}

nn::ModuleList Blocks(const VitConfig& config) {
  nn::ModuleList list;
  for (int64_t i = 0; i < config.depth; ++i) list->push_back(Block(config, 0.0));
  return list;
}

std::string Text(int64_t n) {
  return std::to_string(n);
}

}  // namespace

VitConfig MaeConfig::decoder() const {
  VitConfig d = encoder;
  d.embedDim = decoderEmbedDim;
  d.depth = decoderDepth;
  d.numHeads = decoderNumHeads;
  return d;
}

void MaeConfig::check() const {
  auto fail = [](const std::string& message) { throw Error(ErrorCode::kBadInput, "MaskedAutoencoderViT: " + message); };
  if (!encoder.qkvBias || !encoder.classToken || encoder.fcNorm || encoder.dropPathRate != 0.0) {
    fail("MAE's encoder has a qkv bias, a class token, its final norm and no drop path");
  }
  encoder.check();
  if (decoderEmbedDim < 1 || decoderDepth < 1 || decoderNumHeads < 1) {
    fail("decoderEmbedDim, decoderDepth and decoderNumHeads must be positive");
  }
  decoder().check();
  if (encoder.embedDim % 4 != 0 || decoderEmbedDim % 4 != 0) {
    fail("the 2-D sine-cosine position embeddings need widths that are multiples of 4, got embedDim " +
         Text(encoder.embedDim) + " and decoderEmbedDim " + Text(decoderEmbedDim));
  }
}

// Modules are made in MAE's order, each drawing its PyTorch default initialisation, then MAE's
// initialize_weights draws again: the patch embedding as a Linear (xavier_uniform on the weight
// viewed [D, 3*p*p]), cls_token and mask_token normal(std 0.02), every Linear xavier_uniform with a
// zero bias, in module order. The position embeddings are fixed (requires_grad false, as MAE).
MaskedAutoencoderImpl::MaskedAutoencoderImpl(const MaeConfig& config) : config(config) {
  config.check();
  const int64_t dim = config.encoder.embedDim, decoderDim = config.decoderEmbedDim, tokens = config.numPatches() + 1;
  patch_embed = register_module("patch_embed", PatchEmbed(config.encoder.patchSize, dim));
  cls_token = register_parameter("cls_token", torch::zeros({1, 1, dim}));
  pos_embed = register_parameter("pos_embed", torch::zeros({1, tokens, dim}), /*requires_grad=*/false);
  blocks = register_module("blocks", Blocks(config.encoder));
  norm = register_module("norm", Norm(dim));
  decoder_embed = register_module("decoder_embed", nn::Linear(dim, decoderDim));
  mask_token = register_parameter("mask_token", torch::zeros({1, 1, decoderDim}));
  decoder_pos_embed =
      register_parameter("decoder_pos_embed", torch::zeros({1, tokens, decoderDim}), /*requires_grad=*/false);
  decoder_blocks = register_module("decoder_blocks", Blocks(config.decoder()));
  decoder_norm = register_module("decoder_norm", Norm(decoderDim));
  decoder_pred = register_module("decoder_pred", nn::Linear(decoderDim, config.patchPixels()));

  torch::NoGradGuard noGrad;
  const int64_t grid = config.encoder.gridSize();
  pos_embed.copy_(SinCosPosEmbed2d(dim, grid, /*clsToken=*/true).unsqueeze(0));
  decoder_pos_embed.copy_(SinCosPosEmbed2d(decoderDim, grid, /*clsToken=*/true).unsqueeze(0));
  nn::init::xavier_uniform_(patch_embed->proj->weight.view({dim, -1}));
  nn::init::normal_(cls_token, 0.0, 0.02);
  nn::init::normal_(mask_token, 0.0, 0.02);
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<nn::Linear>()) {
      nn::init::xavier_uniform_(linear->weight);
      if (linear->bias.defined()) nn::init::zeros_(linear->bias);
    }
  }
}

void MaskedAutoencoderImpl::checkInput(const torch::Tensor& images, const torch::Tensor& noise,
                                       double maskRatio) const {
  const int64_t size = config.encoder.imgSize, patches = config.numPatches();
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != size || images.size(3) != size) {
    throw Error(ErrorCode::kBadInput, "this MaskedAutoencoderViT takes images [N, 3, " + Text(size) + ", " +
                                          Text(size) + "], got " + c10::str(images.sizes()));
  }
  if (noise.dim() != 2 || noise.size(0) != images.size(0) || noise.size(1) != patches) {
    throw Error(ErrorCode::kBadInput, "the masking noise must be [N, L] = [" + Text(images.size(0)) + ", " +
                                          Text(patches) + "], got " + c10::str(noise.sizes()));
  }
  if (!(maskRatio >= 0.0 && maskRatio < 1.0) || KeptPatches(patches, maskRatio) >= patches) {
    throw Error(ErrorCode::kBadInput, "a mask ratio of " + std::to_string(maskRatio) + " masks none of " +
                                          Text(patches) +
                                          " patches (or is outside [0, 1)): the loss, taken on "
                                          "masked patches only, would be undefined");
  }
}

MaeOutput MaskedAutoencoderImpl::forward(const torch::Tensor& images, const torch::Tensor& noise, double maskRatio) {
  checkInput(images, noise, maskRatio);
  MaeOutput out;
  torch::Tensor latent = forwardEncoder(images, noise, maskRatio, out);
  out.pred = forwardDecoder(latent, out.idsRestore);
  out.loss = forwardLoss(images, out.pred, out.mask);
  return out;
}

torch::Tensor MaskedAutoencoderImpl::forwardEncoder(const torch::Tensor& images, const torch::Tensor& noise,
                                                    double maskRatio, MaeOutput& out) {
  torch::Tensor x = patch_embed(images) + pos_embed.slice(1, 1);
  Masking masking = RandomMasking(x, noise, maskRatio);
  out.mask = masking.mask;
  out.idsRestore = masking.idsRestore;
  torch::Tensor cls = cls_token + pos_embed.slice(1, 0, 1);
  x = torch::cat({cls.expand({x.size(0), -1, -1}), masking.visible}, 1);
  for (const auto& block : *blocks) x = block->as<BlockImpl>()->forward(x);
  return norm(x);
}

torch::Tensor MaskedAutoencoderImpl::forwardDecoder(const torch::Tensor& latent, const torch::Tensor& idsRestore) {
  torch::Tensor x = decoder_embed(latent);
  const int64_t batch = x.size(0), length = idsRestore.size(1), dim = x.size(2);
  torch::Tensor maskTokens = mask_token.repeat({batch, length + 1 - x.size(1), 1});
  torch::Tensor patches = torch::cat({x.slice(1, 1), maskTokens}, 1);
  patches = patches.gather(1, idsRestore.unsqueeze(-1).repeat({1, 1, dim}));
  x = torch::cat({x.slice(1, 0, 1), patches}, 1) + decoder_pos_embed;
  for (const auto& block : *decoder_blocks) x = block->as<BlockImpl>()->forward(x);
  return decoder_pred(decoder_norm(x)).slice(1, 1);
}

torch::Tensor MaskedAutoencoderImpl::forwardLoss(const torch::Tensor& images, const torch::Tensor& pred,
                                                 const torch::Tensor& mask) const {
  torch::Tensor target = patchify(images);
  if (config.normPixLoss) {
    torch::Tensor mean = target.mean(-1, /*keepdim=*/true);
    torch::Tensor var = target.var(-1, /*unbiased=*/true, /*keepdim=*/true);
    target = (target - mean) / (var + 1e-6).sqrt();
  }
  torch::Tensor perPatch = (pred - target).pow(2).mean(-1);
  return (perPatch * mask).sum() / mask.sum();
}

torch::Tensor MaskedAutoencoderImpl::patchify(const torch::Tensor& images) const {
  const int64_t p = config.encoder.patchSize, grid = config.encoder.gridSize(), batch = images.size(0);
  return images.reshape({batch, 3, grid, p, grid, p})
      .permute({0, 2, 4, 3, 5, 1})
      .reshape({batch, grid * grid, p * p * 3});
}

}  // namespace finetorch
