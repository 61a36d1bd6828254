#include "core/nn/init.h"

#include <cmath>

namespace finetorch {

void TruncNormal_(torch::Tensor tensor, double std, double mean, double a, double b) {
  auto normCdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double lower = normCdf((a - mean) / std);
  const double upper = normCdf((b - mean) / std);
  torch::NoGradGuard noGrad;
  tensor.uniform_(2 * lower - 1, 2 * upper - 1);
  tensor.erfinv_();
  tensor.mul_(std * std::sqrt(2.0));
  tensor.add_(mean);
  tensor.clamp_(a, b);
}

}  // namespace finetorch
