#include "core/nn/classifier.h"

namespace finetorch {

torch::nn::Linear ClassifierImpl::FreshHead(int64_t features, int64_t numClasses, HeadInit init,
                                            const torch::Device& device) {
  torch::nn::Linear fresh(features, numClasses);
  if (init == HeadInit::kXavier) {
    torch::NoGradGuard noGrad;
    torch::nn::init::xavier_uniform_(fresh->weight);
  }
  fresh->to(device);
  return fresh;
}

}  // namespace finetorch
