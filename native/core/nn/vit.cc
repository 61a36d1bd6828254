#include "core/nn/vit.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/nn/init.h"

namespace finetorch {
namespace nn = torch::nn;

namespace {

nn::LayerNorm Norm(int64_t dim) {
  return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-6));
}

std::string Text(int64_t n) {
  return std::to_string(n);
}

// timm's per-block rates: torch.linspace(0, rate, depth) in float32.
std::vector<double> DropPathRates(double rate, int64_t depth) {
  torch::Tensor rates = torch::linspace(0.0, rate, depth);
  std::vector<double> out;
  for (int64_t i = 0; i < depth; ++i) out.push_back(rates[i].item<double>());
  return out;
}

}  // namespace

void VitConfig::check() const {
  auto fail = [](const std::string& message) { throw Error(ErrorCode::kBadInput, "VisionTransformer: " + message); };
  if (imgSize < 1 || patchSize < 1 || embedDim < 1 || depth < 1 || numHeads < 1 || !(mlpRatio > 0)) {
    fail("imgSize, patchSize, embedDim, depth, numHeads and mlpRatio must be positive");
  }
  if (imgSize % patchSize != 0) {
    fail("the patch size " + Text(patchSize) + " does not divide the image size " + Text(imgSize));
  }
  if (embedDim % numHeads != 0) fail("embedDim " + Text(embedDim) + " is not a multiple of numHeads " + Text(numHeads));
  if (mlpHidden() < 1) fail("embedDim x mlpRatio leaves the MLP no hidden units");
  if (globalPool == VitPool::kToken && !classToken) fail("globalPool 'token' needs the class token");
  if (!(dropPathRate >= 0 && dropPathRate < 1)) fail("dropPathRate must be in [0, 1)");
}

PatchEmbedImpl::PatchEmbedImpl(int64_t patchSize, int64_t embedDim) {
  proj = register_module("proj", nn::Conv2d(nn::Conv2dOptions(3, embedDim, patchSize).stride(patchSize)));
}

torch::Tensor PatchEmbedImpl::forward(torch::Tensor images) {
  return proj(images).flatten(2).transpose(1, 2);
}

AttentionImpl::AttentionImpl(int64_t dim, int64_t numHeads, bool qkvBias) : numHeads(numHeads) {
  qkv = register_module("qkv", nn::Linear(nn::LinearOptions(dim, dim * 3).bias(qkvBias)));
  proj = register_module("proj", nn::Linear(dim, dim));
}

torch::Tensor AttentionImpl::forward(torch::Tensor x) {
  const int64_t batch = x.size(0), tokens = x.size(1), dim = x.size(2), headDim = dim / numHeads;
  std::vector<torch::Tensor> qkvParts =
      qkv(x).reshape({batch, tokens, 3, numHeads, headDim}).permute({2, 0, 3, 1, 4}).unbind(0);
  const torch::Tensor &q = qkvParts[0], &k = qkvParts[1], &v = qkvParts[2];
#ifdef FINETORCH_HAVE_SDPA
  torch::Tensor out = at::scaled_dot_product_attention(q, k, v);
#else
  // timm's unfused form, for LibTorch releases before scaled_dot_product_attention.
  torch::Tensor attn = (q * std::pow(static_cast<double>(headDim), -0.5)).matmul(k.transpose(-2, -1)).softmax(-1);
  torch::Tensor out = attn.matmul(v);
#endif
  return proj(out.transpose(1, 2).reshape({batch, tokens, dim}));
}

MlpImpl::MlpImpl(int64_t dim, int64_t hidden) {
  fc1 = register_module("fc1", nn::Linear(dim, hidden));
  fc2 = register_module("fc2", nn::Linear(hidden, dim));
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  return fc2(torch::gelu(fc1(x)));
}

BlockImpl::BlockImpl(const VitConfig& config, double dropPath) : dropPath(dropPath) {
  norm1 = register_module("norm1", Norm(config.embedDim));
  attn = register_module("attn", Attention(config.embedDim, config.numHeads, config.qkvBias));
  norm2 = register_module("norm2", Norm(config.embedDim));
  mlp = register_module("mlp", Mlp(config.embedDim, config.mlpHidden()));
}

// timm's drop_path: per sample, the branch is dropped with probability dropPath and kept scaled
// by 1 / (1 - dropPath).
torch::Tensor BlockImpl::dropPathOf(torch::Tensor branch) {
  if (dropPath == 0.0 || !is_training()) return branch;
  const double keep = 1.0 - dropPath;
  std::vector<int64_t> shape(branch.dim(), 1);
  shape[0] = branch.size(0);
  torch::Tensor mask = branch.new_empty(shape).bernoulli_(keep);
  if (keep > 0.0) mask.div_(keep);
  return branch * mask;
}

torch::Tensor BlockImpl::forward(torch::Tensor x) {
  x = x + dropPathOf(attn(norm1(x)));
  return x + dropPathOf(mlp(norm2(x)));
}

// Modules are made in timm's order, each drawing its PyTorch default initialisation, then
// timm's init_weights('') draws again: pos_embed, cls_token, then every Linear in module order.
VisionTransformerImpl::VisionTransformerImpl(const VitConfig& config, int64_t numClasses) : config(config) {
  config.check();
  const int64_t dim = config.embedDim, grid = config.gridSize();
  patch_embed = register_module("patch_embed", PatchEmbed(config.patchSize, dim));
  if (config.classToken) cls_token = register_parameter("cls_token", torch::zeros({1, 1, dim}));
  pos_embed = register_parameter("pos_embed", torch::zeros({1, grid * grid + config.numPrefixTokens(), dim}));
  blocks = register_module("blocks", nn::ModuleList());
  for (double rate : DropPathRates(config.dropPathRate, config.depth)) blocks->push_back(Block(config, rate));
  if (config.fcNorm) {
    fc_norm = register_module("fc_norm", Norm(dim));
  } else {
    norm = register_module("norm", Norm(dim));
  }
  registerHead("head", nn::Linear(dim, numClasses));

  torch::NoGradGuard noGrad;
  TruncNormal_(pos_embed, 0.02);
  if (cls_token.defined()) nn::init::normal_(cls_token, 0.0, 1e-6);
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<nn::Linear>()) {
      TruncNormal_(linear->weight, 0.02);
      if (linear->bias.defined()) nn::init::zeros_(linear->bias);
    }
  }
}

void VisionTransformerImpl::checkImages(const torch::Tensor& images) const {
  if (images.size(2) != config.imgSize || images.size(3) != config.imgSize) {
    throw Error(ErrorCode::kBadInput, "this VisionTransformer takes " + Text(config.imgSize) + "x" +
                                          Text(config.imgSize) + " images, got " + Text(images.size(2)) + "x" +
                                          Text(images.size(3)));
  }
}

void VisionTransformerImpl::setDropPathRate(double rate) {
  if (!(rate >= 0 && rate < 1)) throw Error(ErrorCode::kBadInput, "VisionTransformer: dropPathRate must be in [0, 1)");
  std::vector<double> rates = DropPathRates(rate, config.depth);
  for (size_t i = 0; i < rates.size(); ++i) blocks[i]->as<BlockImpl>()->dropPath = rates[i];
  config.dropPathRate = rate;
}

torch::Tensor VisionTransformerImpl::features(torch::Tensor images) {
  torch::Tensor x = patch_embed(images);
  if (cls_token.defined()) x = torch::cat({cls_token.expand({x.size(0), -1, -1}), x}, 1);
  x = x + pos_embed;
  for (const auto& block : *blocks) x = block->as<BlockImpl>()->forward(x);
  if (norm) x = norm(x);
  x = config.globalPool == VitPool::kAvg ? x.slice(1, config.numPrefixTokens()).mean(1) : x.select(1, 0);
  return fc_norm ? fc_norm(x) : x;
}

}  // namespace finetorch
