// HostTensor ({ dtype, shape, data }) <-> torch::Tensor, dtype names, devices.
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace finetorch {

torch::Dtype DtypeFromName(const std::string& name);
std::string DtypeName(torch::Dtype dtype);

// A JS HostTensor's memory seen from C++. Reading `View()` is safe on a worker thread as long as
// `object` is kept alive (PromiseWorker's keepAlive) and JS does not write the buffer meanwhile.
struct HostTensorRef {
  Napi::Object object;
  torch::Dtype dtype;
  std::vector<int64_t> shape;
  void* data;

  torch::Tensor View() const;  // no copy
};

// Throws a JS TypeError naming `what` unless value is a well-formed HostTensor.
HostTensorRef ReadHostTensor(const Napi::Value& value, const std::string& what);

// Copies a CPU tensor into a new JS HostTensor (contiguous, row-major).
Napi::Object ToHostTensor(Napi::Env env, const torch::Tensor& tensor);

// "cpu", "cuda", "cuda:1": a clear error when CUDA is asked for and not available.
torch::Device ParseDevice(const std::string& name);

std::string ShapeString(c10::IntArrayRef shape);

}  // namespace finetorch
