#include "resnet.h"

#include <cmath>

namespace finetorch {
namespace nn = torch::nn;

namespace {

nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

nn::Sequential MakeLayer(int64_t inplanes, int64_t planes, int64_t stride) {
  return nn::Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes, 1));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride) {
  conv1 = register_module("conv1", Conv(inplanes, planes, 3, stride, 1));
  bn1 = register_module("bn1", nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", Conv(planes, planes, 3, 1, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(planes));
  if (stride != 1 || inplanes != planes) {
    downsample =
        register_module("downsample", nn::Sequential(Conv(inplanes, planes, 1, stride, 0), nn::BatchNorm2d(planes)));
  }
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample ? downsample->forward(x) : x;
  torch::Tensor out = torch::relu(bn1(conv1(x)));
  out = bn2(conv2(out));
  return torch::relu(out + identity);
}

ResNet18Impl::ResNet18Impl(int64_t numClasses) {
  conv1 = register_module("conv1", Conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  layer1 = register_module("layer1", MakeLayer(64, 64, 1));
  layer2 = register_module("layer2", MakeLayer(64, 128, 2));
  layer3 = register_module("layer3", MakeLayer(128, 256, 2));
  layer4 = register_module("layer4", MakeLayer(256, 512, 2));
  fc = register_module("fc", nn::Linear(kFeatures, numClasses));

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

torch::Tensor ResNet18Impl::features(torch::Tensor x) {
  x = torch::relu(bn1(conv1(x)));
  x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
  return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
}

torch::Tensor ResNet18Impl::forward(torch::Tensor x) {
  return fc(features(x));
}

void ResNet18Impl::replaceFc(int64_t numClasses, bool xavier) {
  auto device = fc->weight.device();
  nn::Linear fresh(kFeatures, numClasses);
  if (xavier) {
    torch::NoGradGuard noGrad;
    nn::init::xavier_uniform_(fresh->weight);
  }
  fresh->to(device);
  fc = replace_module("fc", fresh);
}

}  // namespace finetorch
