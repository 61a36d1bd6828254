// Tensors read straight from a .pth file into a model's own tensors: the file's bytes go to
// their destination in one read each, with no intermediate buffer (lib/pth says where they lie).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace finetorch {

// A tensor in a file: dtype, size and strides (elements), the byte position of element 0.
struct FileTensor {
  torch::Dtype dtype;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
  int64_t position;
};

struct FileRead {
  std::string name;  // for error messages
  const FileTensor* source;
  torch::Tensor target;  // same shape; the dtype converts as Tensor::copy_ does
};

// Fills each target from the file. Every extent is checked against the file's size before the
// first byte is read, so a short file changes nothing.
void ReadFileTensors(const std::string& file, const std::vector<FileRead>& reads);

}  // namespace finetorch
