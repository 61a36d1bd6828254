// ResNet-18 as torchvision builds it (models/resnet.py), with the same module names so that
// named parameters and buffers equal torchvision's state_dict keys.
#pragma once
#include <torch/torch.h>

namespace finetorch {

// Two 3x3 convolutions with a residual connection; stride on the first conv.
struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::BatchNorm2d bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  // 1x1 conv + BN, only where the shape changes
};
TORCH_MODULE(BasicBlock);

struct ResNet18Impl : torch::nn::Module {
  static constexpr int64_t kFeatures = 512;

  explicit ResNet18Impl(int64_t numClasses);
  torch::Tensor forward(torch::Tensor x);
  // Everything but fc: the [N, 512] pooled features the linear head sees.
  torch::Tensor features(torch::Tensor x);
  // A fresh Linear(512, numClasses), initialised as nn.Linear or with xavier_uniform_.
  void replaceFc(int64_t numClasses, bool xavier);

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet18);

}  // namespace finetorch
