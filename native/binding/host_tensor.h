// HostTensor ({ dtype, shape, data }) <-> torch::Tensor, and a .pth file's tensor places.
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "binding/async_call.h"
#include "core/file_tensor.h"

namespace finetorch {

// A view of a JS HostTensor's memory, kept alive by `call` until it settles; JS must not write
// the buffer meanwhile (lib/ hands buffers over and does not touch them until the call settles).
torch::Tensor ReadHostTensor(AsyncCall& call, const Napi::Value& value, const std::string& what);

// Copies a CPU tensor into a new JS HostTensor (contiguous, row-major).
Napi::Object ToHostTensor(Napi::Env env, const torch::Tensor& tensor);

// { dtype, shape, stride, position }: where lib/pth found a tensor in a file.
FileTensor ReadFileTensor(const Napi::Value& value, const std::string& what);

// Bytes of the defined CPU tensors (what V8 is told a JS object holds).
int64_t HostBytes(const std::vector<torch::Tensor>& tensors);

}  // namespace finetorch
