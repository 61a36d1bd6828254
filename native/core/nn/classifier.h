// What a Model holds: an image classifier whose last layer is a linear head on pooled features
// (torchvision's ResNet with its fc, timm's VisionTransformer with its head). The steps, the state
// dict, freezing and data parallelism see only this and torch::nn::Module.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>

namespace finetorch {

enum class HeadInit { kDefault, kXavier };  // nn.Linear's own, or xavier_uniform_ weights

struct ClassifierImpl : torch::nn::Module {
  // Everything before the head: the pooled [N, numFeatures()] it sees.
  virtual torch::Tensor features(torch::Tensor images) = 0;
  // The head alone, on features.
  virtual torch::Tensor classify(torch::Tensor features) = 0;
  torch::Tensor forward(torch::Tensor images) { return classify(features(images)); }

  virtual int64_t numFeatures() const = 0;
  virtual int64_t numClasses() const = 0;
  // A fresh Linear(numFeatures, numClasses) on the head's device and in its mode; every other
  // layer keeps its values (timm's reset_classifier, torchvision's `model.fc = nn.Linear(...)`).
  virtual void resetClassifier(int64_t numClasses, HeadInit init) = 0;
  // The Python class, as load_state_dict names it in its errors.
  virtual std::string className() const = 0;
  // Throws kBadInput when images [N, 3, H, W] cannot go through (a ViT takes one image size).
  virtual void checkImages(const torch::Tensor& images) const {}

 protected:
  // A fresh head for resetClassifier: `init` applied, on `device`.
  static torch::nn::Linear FreshHead(int64_t features, int64_t numClasses, HeadInit init, const torch::Device& device);
};

}  // namespace finetorch
