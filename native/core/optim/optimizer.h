// The optimizers a training step can run (SGD, AdamW, LARS), each step for step the arithmetic of
// its PyTorch original. Group hyper-parameters live in JS (opt.paramGroups) and arrive with every
// step, so a change to a group's lr takes effect at the next step; parameters and the per-parameter
// state torch.optim keeps in optimizer.state (momentum buffers, moments, step counts) live here.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace finetorch {

enum class OptimizerKind { kSgd, kAdamW, kLars };

// One parameter group's hyper-parameters, the union of what the optimizers read (each reads its own).
struct GroupOptions {
  double lr = 0;
  double weightDecay = 0;
  double momentum = 0;          // SGD, LARS
  double dampening = 0;         // SGD
  bool nesterov = false;        // SGD
  double beta1 = 0.9;           // AdamW
  double beta2 = 0.999;         // AdamW
  double eps = 1e-8;            // AdamW
  double trustCoefficient = 0;  // LARS
};

// One entry of a parameter's state, named as torch.optim's state_dict names it.
struct StateSlot {
  std::string name;
  bool scalar;  // a 0-dim float32 tensor (AdamW's step); otherwise shaped as the parameter
};

class Optimizer {
 public:
  Optimizer(std::vector<std::vector<torch::Tensor>> groups, std::vector<StateSlot> slots);
  virtual ~Optimizer() = default;

  // options.size() must equal the number of groups. A step that throws has changed nothing.
  void step(const std::vector<GroupOptions>& options);

  const std::vector<StateSlot>& slots() const { return slots_; }
  // Parameters in group order, as torch's optimizer state_dict indexes them.
  std::vector<torch::Tensor> flatParams() const;
  // state()[i][k]: flat parameter i's slot k. A parameter has all its slots or none: torch creates
  // a parameter's state at its first step with a gradient.
  const std::vector<std::vector<torch::Tensor>>& state() const { return state_; }
  // Replaces the whole state after checking every entry (copied to its parameter's device).
  void loadState(const std::vector<std::vector<torch::Tensor>>& state);
  std::vector<torch::Tensor> stateTensors() const;

 protected:
  // Work that may allocate, before anything changes (LARS's trust ratios).
  virtual void prepare(const std::vector<GroupOptions>&) {}
  // Whether a parameter of a group with these options keeps state (SGD without momentum does not).
  virtual bool keepsState(const GroupOptions&) const { return true; }
  // A parameter's state as its first step finds it (zeros, as torch creates it).
  virtual std::vector<torch::Tensor> initialState(const torch::Tensor& param) const = 0;
  // The arithmetic, in place only: once parameters start to change, nothing can fail. `fresh`
  // says whether the state was created for this step.
  virtual void update(torch::Tensor& param, const GroupOptions& options, std::vector<torch::Tensor>& state, bool fresh,
                      size_t index) = 0;

  // Calls f(param, options, flat index) for each parameter with a gradient, in group order.
  template <typename F>
  void forEachStepping(const std::vector<GroupOptions>& options, F&& f) {
    size_t index = 0;
    for (size_t g = 0; g < groups_.size(); ++g) {
      for (auto& param : groups_[g]) {
        size_t i = index++;
        if (param.grad().defined()) f(param, options[g], i);
      }
    }
  }

 private:
  std::vector<std::vector<torch::Tensor>> groups_;
  std::vector<StateSlot> slots_;
  std::vector<std::vector<torch::Tensor>> state_;
};

std::unique_ptr<Optimizer> MakeOptimizer(OptimizerKind kind, std::vector<std::vector<torch::Tensor>> groups);

}  // namespace finetorch
