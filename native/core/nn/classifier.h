// What a Model holds: an image classifier whose last layer is a linear head on pooled features
// (torchvision's ResNet with its fc, timm's VisionTransformer with its head). The steps, the state
// dict, freezing and data parallelism see only this and torch::nn::Module.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>

namespace finetorch {

// The head's layers: a Linear, or MAE's linear-probe head (main_linprobe.py):
// Sequential(BatchNorm1d(features, affine=False, eps=1e-6), Linear), whose state_dict keys are
// <head>.0.running_mean/running_var/num_batches_tracked and <head>.1.weight/bias.
enum class HeadKind { kLinear, kMaeProbe };

// How the fresh Linear starts: nn.Linear's own initialisation, xavier_uniform_ weights, or timm's
// trunc_normal_(weight, std) with a zero bias (MAE's probe: std 0.01; its fine-tuning: 2e-5).
struct HeadInit {
  enum class Kind { kDefault, kXavier, kTruncNormal };
  Kind kind = Kind::kDefault;
  double std = 0.02;
};

struct ClassifierImpl : torch::nn::Module {
  // Everything before the head: the pooled [N, numFeatures()] it sees.
  virtual torch::Tensor features(torch::Tensor images) = 0;
  // The head alone, on features.
  torch::Tensor classify(torch::Tensor features);
  torch::Tensor forward(torch::Tensor images) { return classify(features(images)); }

  virtual int64_t numFeatures() const = 0;
  int64_t numClasses() const { return linear_->options.out_features(); }
  // A fresh head of `kind` on the head's device and in its mode; every other layer keeps its
  // values (timm's reset_classifier, torchvision's `model.fc = nn.Linear(...)`, MAE's
  // `model.head = Sequential(BatchNorm1d(...), model.head)`).
  void resetClassifier(int64_t numClasses, HeadKind kind, const HeadInit& init);
  // The Python class, as load_state_dict names it in its errors.
  virtual std::string className() const = 0;
  // Throws kBadInput when images [N, 3, H, W] cannot go through (a ViT takes one image size).
  virtual void checkImages(const torch::Tensor& images) const {}

 protected:
  // Registers the constructor's plain Linear head under `name` ('fc', 'head').
  void registerHead(const std::string& name, torch::nn::Linear linear);

 private:
  std::string headName_;
  torch::nn::Linear linear_{nullptr};
  torch::nn::BatchNorm1d norm_{nullptr};  // MAE's probe head only
};

}  // namespace finetorch
