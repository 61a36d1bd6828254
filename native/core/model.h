// A classifier (a ResNet or a VisionTransformer) and what training it needs besides its weights: the precision
// settings, the fp16 loss scaler, which frozen BatchNorm layers stay in eval mode, and data-parallel hooks. No locking
// here: the binding runs one operation at a time on a model.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/autocast.h"
#include "core/grad_scaler.h"
#include "core/nn/classifier.h"
#include "core/nn/vit.h"
#include "core/resnet.h"
#include "core/state_dict.h"
#include "core/train_step_hooks.h"

namespace finetorch {

class Model {
 public:
  // torchvision's resnetX(num_classes=numClasses), or timm's VisionTransformer(**config,
  // num_classes=numClasses); a seed makes the initialisation that of torch.manual_seed(seed)
  // followed by the same constructor.
  Model(const ResNetConfig& config, int64_t numClasses, std::optional<uint64_t> seed);
  Model(const VitConfig& config, int64_t numClasses, std::optional<uint64_t> seed);

  const std::shared_ptr<ClassifierImpl>& net() { return net_; }
  torch::Device device() const { return net_->parameters().front().device(); }
  int64_t numClasses() const { return net_->numClasses(); }

  LoadReport loadState(const StateSource& source, bool strict);
  std::vector<NamedTensor> stateDict();  // CPU copies

  void to(const torch::Device& device);
  void resetClassifier(int64_t numClasses, HeadKind kind, const HeadInit& init, std::optional<uint64_t> seed);
  // requiresGrad per parameter name (names the model lacks are an error, nothing changed).
  void setRequiresGrad(const std::vector<std::pair<std::string, bool>>& flags, bool bnTrainWhenFrozen);
  void setPrecision(Amp amp, bool channelsLast);

  // Train (or eval) mode for the next forward pass; in train mode, BatchNorm layers whose
  // parameters are all frozen stay in eval mode unless bnTrainWhenFrozen (linear probing).
  void setMode(bool training);
  Amp amp() const { return amp_; }
  bool channelsLast() const { return channelsLast_; }
  GradScaler& scaler() { return scaler_; }
  TrainStepHooks* hooks() const { return hooks_.get(); }
  void setHooks(std::shared_ptr<TrainStepHooks> hooks) { hooks_ = std::move(hooks); }

  // Parameters, gradients and buffers (what the model holds in memory).
  std::vector<torch::Tensor> tensors();

 private:
  std::shared_ptr<ClassifierImpl> net_;
  Amp amp_ = Amp::kNone;
  bool channelsLast_ = false;
  bool bnTrainWhenFrozen_ = false;
  GradScaler scaler_;
  std::shared_ptr<TrainStepHooks> hooks_;
};

}  // namespace finetorch
