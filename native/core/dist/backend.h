// The c10d backends of a process group, each compiled in its own file (gloo.cc, nccl.cc) so that
// CMake can check that file alone against the LibTorch before it joins the build (see
// CMakeLists.txt): the addon has a backend only where that check passed. Only dist.cc uses this.
#pragma once
#include <chrono>
#include <memory>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <utility>
#include <vector>

#include "core/dist.h"

namespace finetorch {
namespace dist {

// The operations of one c10d backend, whatever its base class in this LibTorch (ProcessGroup in
// 1.x, Backend from 2.0): only its own allreduce/broadcast/barrier are used.
struct Collectives {
  virtual ~Collectives() = default;
  virtual c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp op) = 0;
  virtual c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors, int root) = 0;
  virtual c10::intrusive_ptr<c10d::Work> barrier(std::chrono::milliseconds timeout) = 0;
};

template <typename Backend>
struct BackendCollectives : Collectives {
  explicit BackendCollectives(c10::intrusive_ptr<Backend> backend) : backend(std::move(backend)) {}
  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp op) override {
    c10d::AllreduceOptions options;
    options.reduceOp = op;
    return backend->allreduce(tensors, options);
  }
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors, int root) override {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    return backend->broadcast(tensors, options);
  }
  c10::intrusive_ptr<c10d::Work> barrier(std::chrono::milliseconds timeout) override {
    c10d::BarrierOptions options;
    options.timeout = timeout;
    return backend->barrier(options);
  }
  c10::intrusive_ptr<Backend> backend;
};

// ProcessGroupGloo on `store`, listening on options.interfaces or, without any, on the local
// address that reaches the master (FINETORCH_GLOO builds only).
std::unique_ptr<Collectives> OpenGloo(c10::intrusive_ptr<c10d::Store> store, const GroupOptions& options);
// ProcessGroupNCCL on `store` (FINETORCH_NCCL builds only).
std::unique_ptr<Collectives> OpenNccl(c10::intrusive_ptr<c10d::Store> store, const GroupOptions& options);

}  // namespace dist
}  // namespace finetorch
