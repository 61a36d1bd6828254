// timm's RandomErasing on normalised images: boxes filled with zeros ('const'), one normal value
// per channel ('rand') or per pixel ('pixel'). The boxes are the caller's draws; the normal values
// come from a generator seeded per box, so the same seed gives the same pixels.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace finetorch {

enum class EraseFill { kConst, kPerChannel, kPerPixel };

struct EraseBox {
  int64_t image = 0;  // index in the batch
  int64_t top = 0, left = 0, height = 0, width = 0;
  uint64_t seed = 0;
};

// images: [N, C, H, W] float32, erased in place.
void EraseBoxes(torch::Tensor& images, const std::vector<EraseBox>& boxes, EraseFill fill);

}  // namespace finetorch
