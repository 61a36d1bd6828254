// One step of MAE's pretraining, as engine_pretrain.py's train_one_epoch takes it (no gradient
// accumulation, full precision): the loss on the masked patches, backward, the optimizer's step.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "core/nn/mae.h"
#include "core/optim/optimizer.h"

namespace finetorch {

// images and noise on the model's device, checked (MaskedAutoencoderImpl::checkInput). Returns the
// loss; a NaN or infinite loss throws kNonfiniteLoss before anything changed, as a classifier's
// TrainStep does.
double MaeTrainStep(MaskedAutoencoderImpl& net, const torch::Tensor& images, const torch::Tensor& noise,
                    double maskRatio, Optimizer& optimizer, const std::vector<GroupOptions>& options);

}  // namespace finetorch
