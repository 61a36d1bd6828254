// The coarse operations on a model: forward, features, one training step (forward, mean
// cross-entropy, backward, optimizer step) and one evaluation step. A training step that fails
// anywhere leaves the model as it was: BatchNorm statistics are restored and no parameter has moved.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "core/model.h"
#include "core/optim/optimizer.h"

namespace finetorch {

// A batch: images [N, 3, H, W] float32, or for the head alone backbone features [N, features];
// targets one class index per sample (already checked to be in range), or for training class
// probabilities [N, classes] float32 (mixup's), whose loss is timm's SoftTargetCrossEntropy.
struct Batch {
  torch::Tensor input;
  torch::Tensor target;
  bool headOnly = false;
  double labelSmoothing = 0;  // cross_entropy's label_smoothing, for class indices
};

struct StepResult {
  double loss = 0;
  int64_t correct = 0;
  torch::Tensor logits;  // only when asked for (CPU, float32)
};

// Logits (float32, CPU) without autograd, in train or eval mode.
torch::Tensor Forward(Model& model, const torch::Tensor& input, bool training);
// The backbone's pooled features (float32, CPU) in eval mode.
torch::Tensor Features(Model& model, const torch::Tensor& input);

// In eval mode (training false) BatchNorm uses and keeps its running statistics, as PyTorch's
// model.eval() + backward + step does. A NaN or infinite loss throws kNonfiniteLoss.
// With probabilities as targets, `correct` counts the samples whose most probable class is predicted.
StepResult TrainStep(Model& model, const Batch& batch, Optimizer& optimizer, const std::vector<GroupOptions>& options,
                     bool training);
StepResult EvalStep(Model& model, const Batch& batch, bool withLogits);

}  // namespace finetorch
