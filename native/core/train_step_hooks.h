// What a wrapper around the model (data-parallel training) does at the fixed points of one
// training step. The step calls them in this order: beforeForward, agreeFinite (once the loss is
// known), then, only when every rank agreed to step, beforeBackward and afterBackward.
#pragma once

namespace finetorch {

struct TrainStepHooks {
  virtual ~TrainStepHooks() = default;
  // Before the forward pass: e.g. take rank 0's BatchNorm statistics (DDP's broadcast_buffers).
  virtual void beforeForward() = 0;
  // Whether every rank's loss is finite: all ranks decide together, so none steps alone.
  virtual bool agreeFinite(bool localFinite) = 0;
  // Just before backward: arm the hooks that reduce gradients as they become ready.
  virtual void beforeBackward() = 0;
  // After backward, before the optimizer step: the gradients are now averaged across ranks.
  virtual void afterBackward() = 0;
};

}  // namespace finetorch
