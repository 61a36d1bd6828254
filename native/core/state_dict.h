// State dicts as PyTorch's load_state_dict / state_dict see them: names and shapes are matched
// against the model's parameters and buffers before anything is copied, so a failed load changes
// nothing; the tensors themselves come from host memory or straight from a .pth file.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/file_tensor.h"

namespace finetorch {

using NamedTensor = std::pair<std::string, torch::Tensor>;

// Parameters and buffers in torchvision's state_dict order: module by module, its own parameters,
// then its own buffers.
std::vector<NamedTensor> StateEntries(torch::nn::Module& net);

// Where the tensors of a state dict come from.
class StateSource {
 public:
  virtual ~StateSource() = default;
  virtual size_t size() const = 0;
  virtual const std::string& name(size_t i) const = 0;
  virtual c10::IntArrayRef shape(size_t i) const = 0;
  // Copies entry i into targets[i] wherever that is defined (all checks have passed).
  virtual void copyInto(const std::vector<torch::Tensor>& targets) const = 0;
};

// Tensors in host memory (views of JS buffers, or anything else).
class TensorSource : public StateSource {
 public:
  explicit TensorSource(std::vector<NamedTensor> tensors) : tensors_(std::move(tensors)) {}
  size_t size() const override { return tensors_.size(); }
  const std::string& name(size_t i) const override { return tensors_[i].first; }
  c10::IntArrayRef shape(size_t i) const override { return tensors_[i].second.sizes(); }
  void copyInto(const std::vector<torch::Tensor>& targets) const override;

 private:
  std::vector<NamedTensor> tensors_;
};

// Tensors where a .pth file holds them: each is read into its target with one pread.
class FileSource : public StateSource {
 public:
  FileSource(std::string file, std::vector<std::pair<std::string, FileTensor>> tensors)
      : file_(std::move(file)), tensors_(std::move(tensors)) {}
  size_t size() const override { return tensors_.size(); }
  const std::string& name(size_t i) const override { return tensors_[i].first; }
  c10::IntArrayRef shape(size_t i) const override { return tensors_[i].second.shape; }
  void copyInto(const std::vector<torch::Tensor>& targets) const override;

 private:
  std::string file_;
  std::vector<std::pair<std::string, FileTensor>> tensors_;
};

struct LoadReport {
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
};

// load_state_dict: one error listing every mismatch (and, when strict, every missing or unexpected
// key) before anything changes. num_batches_tracked absent from old files starts at 0, as PyTorch.
LoadReport LoadState(torch::nn::Module& net, const std::string& modelName, const StateSource& source, bool strict);

}  // namespace finetorch
