#include "core/nn/masking.h"

#include <ATen/CPUGeneratorImpl.h>

namespace finetorch {

int64_t KeptPatches(int64_t length, double maskRatio) {
  return static_cast<int64_t>(static_cast<double>(length) * (1.0 - maskRatio));
}

torch::Tensor MaskingNoise(int64_t batch, int64_t length, uint64_t seed) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return torch::rand({batch, length}, generator);
}

Masking RandomMasking(const torch::Tensor& tokens, const torch::Tensor& noise, double maskRatio) {
  const int64_t batch = tokens.size(0), length = tokens.size(1), dim = tokens.size(2);
  const int64_t keep = KeptPatches(length, maskRatio);
  torch::Tensor idsShuffle = noise.argsort(int64_t{1});
  torch::Tensor idsRestore = idsShuffle.argsort(int64_t{1});
  torch::Tensor idsKeep = idsShuffle.slice(1, 0, keep);
  torch::Tensor visible = tokens.gather(1, idsKeep.unsqueeze(-1).repeat({1, 1, dim}));
  torch::Tensor mask = torch::ones({batch, length}, torch::TensorOptions().device(tokens.device()));
  mask.slice(1, 0, keep).zero_();
  return {visible, mask.gather(1, idsRestore), idsRestore};
}

}  // namespace finetorch
