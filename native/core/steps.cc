#include "core/steps.h"

#include <cmath>
#include <sstream>
#include <string>

#include "core/error.h"

namespace finetorch {
namespace {

std::string Describe(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.scalar_type() << " " << t.sizes();
  return s.str();
}

// The batch on the model's device, in its memory format, after the checks the binding cannot
// leave to LibTorch (whose own messages name no argument). To a GPU it goes through pinned memory
// with a non-blocking copy.
torch::Tensor DeviceInput(Model& model, const torch::Tensor& input, bool headOnly) {
  const int64_t features = model.net()->numFeatures();
  bool ok = input.scalar_type() == torch::kFloat32 &&
            (headOnly ? input.dim() == 2 && input.size(1) == features : input.dim() == 4 && input.size(1) == 3);
  if (!ok) {
    throw Error(ErrorCode::kBadInput,
                std::string(headOnly ? "features must be float32 [N, " + std::to_string(features) + "]"
                                     : "input must be float32 [N, 3, H, W]") +
                    ", got " + Describe(input));
  }
  if (input.size(0) == 0) throw Error(ErrorCode::kBadInput, "the batch is empty (N = 0)");
  if (!headOnly) model.net()->checkImages(input);
  torch::Device device = model.device();
  torch::Tensor x = device.is_cuda() ? input.pin_memory().to(device, /*non_blocking=*/true) : input;
  if (model.channelsLast() && !headOnly) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  return x;
}

// Class indices [N] (int64 on the model's device), or for training probabilities [N, classes].
torch::Tensor DeviceTarget(Model& model, const Batch& batch, bool soft = false) {
  const int64_t n = batch.input.size(0);
  if (soft) {
    const int64_t classes = model.numClasses();
    if (batch.target.scalar_type() != torch::kFloat32 || batch.target.dim() != 2 || batch.target.size(0) != n ||
        batch.target.size(1) != classes) {
      throw Error(ErrorCode::kBadInput, "soft targets must be float32 [" + std::to_string(n) + ", " +
                                            std::to_string(classes) + "], got " + Describe(batch.target));
    }
    return batch.target.to(model.device());
  }
  if (batch.target.dim() != 1 || batch.target.size(0) != n) {
    throw Error(ErrorCode::kBadInput,
                "target must hold one label per input (" + std::to_string(n) + "), got " + Describe(batch.target));
  }
  return batch.target.to(model.device(), torch::kLong);
}

bool IsSoft(const Batch& batch) {
  return batch.target.dim() == 2;
}

// Mean cross-entropy: with label smoothing for class indices, timm's SoftTargetCrossEntropy
// (sum of -p log softmax per sample) for probabilities.
torch::Tensor Loss(const torch::Tensor& logits, const torch::Tensor& target, double labelSmoothing) {
  if (target.dim() == 2) return torch::sum(-target * torch::log_softmax(logits, -1), -1).mean();
  return torch::nn::functional::cross_entropy(
      logits, target, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(labelSmoothing));
}

torch::Tensor Logits(Model& model, const torch::Tensor& x, bool headOnly) {
  ClassifierImpl& net = *model.net();
  return headOnly ? net.classify(x) : net.forward(x);
}

int64_t Correct(const torch::Tensor& logits, const torch::Tensor& target) {
  return logits.argmax(1).eq(target.dim() == 2 ? target.argmax(1) : target).sum().item<int64_t>();
}

// The BatchNorm statistics (all buffers) as they were before a step, put back if it fails.
class BufferSnapshot {
 public:
  explicit BufferSnapshot(torch::nn::Module& net) : buffers_(net.buffers()) {
    saved_.reserve(buffers_.size());
    for (const auto& b : buffers_) saved_.push_back(b.clone());
  }
  void restore() {
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < buffers_.size(); ++i) buffers_[i].copy_(saved_[i]);
  }

 private:
  std::vector<torch::Tensor> buffers_, saved_;
};

}  // namespace

torch::Tensor Forward(Model& model, const torch::Tensor& input, bool training) {
  torch::Tensor x = DeviceInput(model, input, false);
  torch::NoGradGuard noGrad;
  AutocastScope autocast(model.amp(), x.device());
  model.setMode(training);
  return model.net()->forward(x).to(torch::kCPU, torch::kFloat32);
}

torch::Tensor Features(Model& model, const torch::Tensor& input) {
  torch::Tensor x = DeviceInput(model, input, false);
  torch::NoGradGuard noGrad;
  AutocastScope autocast(model.amp(), x.device());
  model.setMode(false);
  return model.net()->features(x).to(torch::kCPU, torch::kFloat32);
}

StepResult TrainStep(Model& model, const Batch& batch, Optimizer& optimizer, const std::vector<GroupOptions>& options,
                     bool training) {
  torch::Tensor x = DeviceInput(model, batch.input, batch.headOnly);
  torch::Tensor labels = DeviceTarget(model, batch, IsSoft(batch));
  ClassifierImpl& net = *model.net();
  TrainStepHooks* hooks = model.hooks();
  model.setMode(training);
  BufferSnapshot snapshot(net);
  StepResult result;
  try {
    for (auto& p : net.parameters()) p.mutable_grad().reset();
    if (hooks) hooks->beforeForward();
    torch::Tensor logits, loss;
    {
      AutocastScope autocast(model.amp(), x.device());
      logits = Logits(model, x, batch.headOnly);
      loss = Loss(logits, labels, batch.labelSmoothing);
    }
    result.loss = loss.item<double>();
    bool finite = std::isfinite(result.loss);
    if (hooks) finite = hooks->agreeFinite(finite);
    if (!finite) {
      throw Error(ErrorCode::kNonfiniteLoss, std::isfinite(result.loss)
                                                 ? "the loss of another rank is not finite; no rank stepped"
                                                 : "the loss is " + std::to_string(result.loss) +
                                                       "; the model and optimizer were left as they were");
    }
    if (hooks) hooks->beforeBackward();
    if (model.amp() == Amp::kFloat16) {
      // GradScaler's step: scaled backward, unscale, skip the step on inf/NaN, update.
      GradScaler& scaler = model.scaler();
      scaler.scale(loss).backward();
      if (hooks) hooks->afterBackward();
      std::vector<torch::Tensor> grads;
      for (const auto& p : net.parameters()) {
        if (p.grad().defined()) grads.push_back(p.grad());
      }
      if (scaler.unscale(grads)) optimizer.step(options);
      scaler.update();
    } else {
      loss.backward();
      if (hooks) hooks->afterBackward();
      optimizer.step(options);
    }
    result.correct = Correct(logits, labels);
  } catch (...) {
    snapshot.restore();
    throw;
  }
  return result;
}

StepResult EvalStep(Model& model, const Batch& batch, bool withLogits) {
  torch::Tensor x = DeviceInput(model, batch.input, batch.headOnly);
  torch::Tensor labels = DeviceTarget(model, batch);
  torch::NoGradGuard noGrad;
  model.setMode(false);
  torch::Tensor logits;
  {
    AutocastScope autocast(model.amp(), x.device());
    logits = Logits(model, x, batch.headOnly).to(torch::kFloat32);
  }
  StepResult result;
  result.loss = torch::nn::functional::cross_entropy(logits, labels).item<double>();
  result.correct = Correct(logits, labels);
  if (withLogits) result.logits = logits.to(torch::kCPU);
  return result;
}

}  // namespace finetorch
