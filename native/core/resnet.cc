#include "core/resnet.h"

#include <utility>

#include "core/error.h"

namespace finetorch {
namespace nn = torch::nn;

namespace {

nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, int64_t groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).groups(groups).bias(false));
}

}  // namespace

// Modules are constructed in torchvision's order (the downsample before its block, each conv
// drawing its default init from the RNG), so a seeded model draws the same numbers as
// torch.manual_seed(seed); torchvision.models.resnetX(); registration order gives the key order.
BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, nn::Sequential downsample) {
  conv1 = register_module("conv1", Conv(inplanes, planes, 3, stride, 1));
  bn1 = register_module("bn1", nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", Conv(planes, planes, 3, 1, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(planes));
  if (downsample) this->downsample = register_module("downsample", downsample);
}

// The downsample runs after the block's convolutions, as in torchvision's forward: the same
// numbers either way, but backward then finishes the parameters' gradients in PyTorch's order,
// and DistributedDataParallel's buckets (and with 3 or more ranks its sums) follow that order.
torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  torch::Tensor out = torch::relu(bn1(conv1(x)));
  out = bn2(conv2(out));
  torch::Tensor identity = downsample ? downsample->forward(x) : x;
  return torch::relu(out + identity);
}

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, nn::Sequential downsample,
                               int64_t groups, int64_t widthPerGroup) {
  const int64_t width = static_cast<int64_t>(planes * (widthPerGroup / 64.0)) * groups;
  conv1 = register_module("conv1", Conv(inplanes, width, 1, 1, 0));
  bn1 = register_module("bn1", nn::BatchNorm2d(width));
  conv2 = register_module("conv2", Conv(width, width, 3, stride, 1, groups));
  bn2 = register_module("bn2", nn::BatchNorm2d(width));
  conv3 = register_module("conv3", Conv(width, planes * 4, 1, 1, 0));
  bn3 = register_module("bn3", nn::BatchNorm2d(planes * 4));
  if (downsample) this->downsample = register_module("downsample", downsample);
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  torch::Tensor out = torch::relu(bn1(conv1(x)));
  out = torch::relu(bn2(conv2(out)));
  out = bn3(conv3(out));
  torch::Tensor identity = downsample ? downsample->forward(x) : x;
  return torch::relu(out + identity);
}

ResNetImpl::ResNetImpl(const ResNetConfig& config, int64_t numClasses) : config(config) {
  const bool basic = config.block == BlockKind::kBasic;
  if (config.layers.size() != 4) throw Error(ErrorCode::kBadInput, "a ResNet has 4 layers");
  if (basic && (config.groups != 1 || config.widthPerGroup != 64)) {
    throw Error(ErrorCode::kBadInput, "BasicBlock only supports groups=1 and base_width=64");
  }
  conv1 = register_module("conv1", Conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  layer1 = register_module("layer1", makeLayer(64, config.layers[0], 1));
  layer2 = register_module("layer2", makeLayer(128, config.layers[1], 2));
  layer3 = register_module("layer3", makeLayer(256, config.layers[2], 2));
  layer4 = register_module("layer4", makeLayer(512, config.layers[3], 2));
  registerHead("fc", nn::Linear(config.features(), numClasses));

  // torchvision's init: convs kaiming_normal_(fan_out, relu), BN weight 1 / bias 0, fc as nn.Linear.
  torch::NoGradGuard noGrad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

nn::Sequential ResNetImpl::makeLayer(int64_t planes, int64_t blocks, int64_t stride) {
  const int64_t expansion = config.expansion();
  nn::Sequential layer;
  for (int64_t i = 0; i < blocks; ++i) {
    nn::Sequential downsample{nullptr};
    if (i == 0 && (stride != 1 || inplanes_ != planes * expansion)) {
      downsample =
          nn::Sequential(Conv(inplanes_, planes * expansion, 1, stride, 0), nn::BatchNorm2d(planes * expansion));
    }
    const int64_t blockStride = i == 0 ? stride : 1;
    if (config.block == BlockKind::kBasic) {
      layer->push_back(BasicBlock(inplanes_, planes, blockStride, downsample));
    } else {
      layer->push_back(Bottleneck(inplanes_, planes, blockStride, downsample, config.groups, config.widthPerGroup));
    }
    inplanes_ = planes * expansion;
  }
  return layer;
}

torch::Tensor ResNetImpl::features(torch::Tensor x) {
  x = torch::relu(bn1(conv1(x)));
  x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
  return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
}

}  // namespace finetorch
