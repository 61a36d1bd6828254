// The torchvision ResNet family (models/resnet.py): one ResNet(block, layers, groups,
// widthPerGroup) with torchvision's module names, so named parameters and buffers equal its
// state_dict keys, and its initialisation, module for module in the same order.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/nn/classifier.h"

namespace finetorch {

enum class BlockKind { kBasic, kBottleneck };

// What torchvision's ResNet constructor takes (resnet18 = basic, {2, 2, 2, 2}, 1, 64).
struct ResNetConfig {
  BlockKind block = BlockKind::kBasic;
  std::vector<int64_t> layers;  // blocks in layer1..layer4
  int64_t groups = 1;
  int64_t widthPerGroup = 64;

  int64_t expansion() const { return block == BlockKind::kBasic ? 1 : 4; }
  int64_t features() const { return 512 * expansion(); }  // what fc sees
};

// Two 3x3 convolutions with a residual connection; stride on the first conv.
struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, torch::nn::Sequential downsample);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  // 1x1 conv + BN, only where the shape changes
};
TORCH_MODULE(BasicBlock);

// 1x1 reduce, 3x3 (grouped, strided: ResNet v1.5), 1x1 expand x4, with a residual connection.
struct BottleneckImpl : torch::nn::Module {
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, torch::nn::Sequential downsample, int64_t groups,
                 int64_t widthPerGroup);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

struct ResNetImpl : ClassifierImpl {
  ResNetImpl(const ResNetConfig& config, int64_t numClasses);
  // Everything but fc: the pooled [N, features] the linear head sees.
  torch::Tensor features(torch::Tensor x) override;
  int64_t numFeatures() const override { return config.features(); }
  std::string className() const override { return "ResNet"; }

  const ResNetConfig config;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};

 private:
  torch::nn::Sequential makeLayer(int64_t planes, int64_t blocks, int64_t stride);
  int64_t inplanes_ = 64;
};
TORCH_MODULE(ResNet);

}  // namespace finetorch
