#include "core/optim/optimizer.h"

#include <utility>

#include "core/error.h"
#include "core/optim/adamw.h"
#include "core/optim/lars.h"
#include "core/optim/sgd.h"

namespace finetorch {

Optimizer::Optimizer(std::vector<std::vector<torch::Tensor>> groups, std::vector<StateSlot> slots)
    : groups_(std::move(groups)), slots_(std::move(slots)) {
  size_t count = 0;
  for (const auto& group : groups_) count += group.size();
  state_.resize(count);
}

std::vector<torch::Tensor> Optimizer::flatParams() const {
  std::vector<torch::Tensor> flat;
  for (const auto& group : groups_) flat.insert(flat.end(), group.begin(), group.end());
  return flat;
}

std::vector<torch::Tensor> Optimizer::stateTensors() const {
  std::vector<torch::Tensor> all;
  for (const auto& entry : state_) all.insert(all.end(), entry.begin(), entry.end());
  return all;
}

void Optimizer::step(const std::vector<GroupOptions>& options) {
  if (options.size() != groups_.size()) {
    throw Error(ErrorCode::kBadInput, "optimizer: options for every parameter group are required");
  }
  torch::NoGradGuard noGrad;
  prepare(options);
  // Every allocation first, then only in-place arithmetic.
  std::vector<std::vector<torch::Tensor>> created(state_.size());
  forEachStepping(options, [&](const torch::Tensor& param, const GroupOptions& o, size_t i) {
    if (state_[i].empty() && keepsState(o)) created[i] = initialState(param);
  });
  std::vector<bool> fresh(state_.size(), false);
  for (size_t i = 0; i < created.size(); ++i) {
    if (created[i].empty()) continue;
    state_[i] = std::move(created[i]);
    fresh[i] = true;
  }
  forEachStepping(options, [&](torch::Tensor& param, const GroupOptions& o, size_t i) {
    update(param, o, state_[i], fresh[i], i);
  });
}

void Optimizer::loadState(const std::vector<std::vector<torch::Tensor>>& given) {
  auto params = flatParams();
  if (given.size() != params.size()) {
    throw Error(ErrorCode::kStateDict, "optimizer state holds " + std::to_string(given.size()) +
                                           " parameters but the optimizer has " + std::to_string(params.size()));
  }
  std::vector<std::vector<torch::Tensor>> loaded(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (given[i].empty()) continue;
    if (given[i].size() != slots_.size()) {
      throw Error(ErrorCode::kStateDict, "optimizer state of parameter " + std::to_string(i) + " holds " +
                                             std::to_string(given[i].size()) + " entries, not " +
                                             std::to_string(slots_.size()));
    }
    for (size_t k = 0; k < slots_.size(); ++k) {
      const torch::Tensor& t = given[i][k];
      const StateSlot& slot = slots_[k];
      std::string what = "optimizer state " + std::to_string(i) + " '" + slot.name + "'";
      if (!t.defined()) throw Error(ErrorCode::kStateDict, what + " is missing");
      if (slot.scalar ? t.numel() != 1 : t.sizes() != params[i].sizes()) {
        throw Error(ErrorCode::kStateDict,
                    what + " has shape " + c10::str(t.sizes()) + " but " +
                        (slot.scalar ? std::string("a scalar") : "its parameter has " + c10::str(params[i].sizes())) +
                        " is expected");
      }
      // A step count stays a CPU float32 scalar, as torch.optim keeps it.
      loaded[i].push_back(slot.scalar ? t.to(torch::kCPU, torch::kFloat32, false, true).reshape({})
                                      : t.to(params[i].device(), params[i].scalar_type(), false, true));
    }
  }
  state_ = std::move(loaded);
}

std::unique_ptr<Optimizer> MakeOptimizer(OptimizerKind kind, std::vector<std::vector<torch::Tensor>> groups) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return std::make_unique<Sgd>(std::move(groups));
    case OptimizerKind::kAdamW:
      return std::make_unique<AdamW>(std::move(groups));
    case OptimizerKind::kLars:
      return std::make_unique<Lars>(std::move(groups));
  }
  throw Error(ErrorCode::kBadInput, "optimizer: unknown kind");
}

}  // namespace finetorch
