// The seam between a training step and a data-parallel wrapper (DistributedDataParallel's part):
// the step calls these around its forward and backward passes when a model is distributed.
#pragma once

namespace finetorch {

class TrainStepHooks {
 public:
  virtual ~TrainStepHooks() = default;
  virtual void beforeForward() = 0;                // e.g. broadcast buffers from rank 0
  virtual bool agreeFinite(bool localFinite) = 0;  // every rank decides together whether to step
  virtual void beforeBackward() = 0;               // arm the gradient-ready hooks
  virtual void afterBackward() = 0;                // gradients are now averaged across ranks
};

}  // namespace finetorch
