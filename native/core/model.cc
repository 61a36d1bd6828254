#include "core/model.h"

#include <unordered_map>

#include "core/error.h"
#include "core/seeded.h"

namespace finetorch {

Model::Model(const ResNetConfig& config, int64_t numClasses, std::optional<uint64_t> seed) {
  Seeded(seed, [&] { net_ = ResNet(config, numClasses).ptr(); });
}

Model::Model(const VitConfig& config, int64_t numClasses, std::optional<uint64_t> seed) {
  Seeded(seed, [&] { net_ = VisionTransformer(config, numClasses).ptr(); });
}

LoadReport Model::loadState(const StateSource& source, bool strict) {
  return LoadState(*net_, net_->className(), source, strict);
}

std::vector<NamedTensor> Model::stateDict() {
  std::vector<NamedTensor> entries;
  for (auto& [name, tensor] : StateEntries(*net_)) {
    entries.emplace_back(name, tensor.detach().to(torch::kCPU).contiguous());
  }
  return entries;
}

void Model::to(const torch::Device& device) {
  net_->to(device);
  // Fixed input sizes: let cuDNN pick the fastest convolution algorithms.
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
}

void Model::resetClassifier(int64_t numClasses, HeadKind kind, const HeadInit& init, std::optional<uint64_t> seed) {
  Seeded(seed, [&] { net_->resetClassifier(numClasses, kind, init); });
}

void Model::setRequiresGrad(const std::vector<std::pair<std::string, bool>>& flags, bool bnTrainWhenFrozen) {
  std::unordered_map<std::string, torch::Tensor> params;
  for (auto& p : net_->named_parameters()) params.emplace(p.key(), p.value());
  std::vector<std::pair<torch::Tensor, bool>> changes;
  for (const auto& [name, flag] : flags) {
    auto found = params.find(name);
    if (found == params.end()) throw Error(ErrorCode::kBadInput, "the model has no parameter '" + name + "'");
    changes.emplace_back(found->second, flag);
  }
  for (auto& [param, flag] : changes) param.set_requires_grad(flag);
  bnTrainWhenFrozen_ = bnTrainWhenFrozen;
}

void Model::setPrecision(Amp amp, bool channelsLast) {
  amp_ = amp;
  scaler_ = GradScaler();
  if (channelsLast == channelsLast_) return;
  torch::NoGradGuard noGrad;
  auto format = channelsLast ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  for (auto& p : net_->parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(format));
  }
  channelsLast_ = channelsLast;
}

void Model::setMode(bool training) {
  net_->train(training);
  if (!training || bnTrainWhenFrozen_) return;
  for (const auto& module : net_->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      if (!bn->weight.requires_grad() && !bn->bias.requires_grad()) bn->eval();
    }
  }
}

std::vector<torch::Tensor> Model::tensors() {
  std::vector<torch::Tensor> all = net_->parameters();
  for (const auto& p : net_->parameters()) {
    if (p.grad().defined()) all.push_back(p.grad());
  }
  for (const auto& b : net_->buffers()) all.push_back(b);
  return all;
}

}  // namespace finetorch
