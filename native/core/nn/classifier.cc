#include "core/nn/classifier.h"

#include <memory>

#include "core/nn/init.h"

namespace finetorch {
namespace nn = torch::nn;

torch::Tensor ClassifierImpl::classify(torch::Tensor features) {
  return linear_(norm_ ? norm_(features) : features);
}

void ClassifierImpl::registerHead(const std::string& name, nn::Linear linear) {
  headName_ = name;
  linear_ = register_module(name, linear);
}

void ClassifierImpl::resetClassifier(int64_t numClasses, HeadKind kind, const HeadInit& init) {
  const torch::Device device = linear_->weight.device();
  nn::Linear linear(numFeatures(), numClasses);
  {
    torch::NoGradGuard noGrad;
    if (init.kind == HeadInit::Kind::kXavier) {
      nn::init::xavier_uniform_(linear->weight);
    } else if (init.kind == HeadInit::Kind::kTruncNormal) {
      TruncNormal_(linear->weight, init.std);
      nn::init::zeros_(linear->bias);
    }
  }
  nn::BatchNorm1d norm{nullptr};
  std::shared_ptr<nn::Module> head = linear.ptr();
  if (kind == HeadKind::kMaeProbe) {
    norm = nn::BatchNorm1d(nn::BatchNormOptions(numFeatures()).affine(false).eps(1e-6));
    head = nn::Sequential(norm, linear).ptr();
  }
  head->to(device);
  head->train(is_training());
  replace_module(headName_, head);
  linear_ = linear;
  norm_ = norm;
}

}  // namespace finetorch
