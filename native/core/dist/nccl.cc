// c10d's ProcessGroupNCCL, compiled in where LibTorch has it (a CUDA build) and nccl.h is found.
#if !defined(USE_C10D_NCCL)
#error "this LibTorch's c10d has no NCCL backend (USE_C10D_NCCL): NCCL needs a CUDA build of LibTorch"
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "core/dist/backend.h"

namespace finetorch {
namespace dist {

std::unique_ptr<Collectives> OpenNccl(c10::intrusive_ptr<c10d::Store> store, const GroupOptions& o) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = o.timeout;
  return std::make_unique<BackendCollectives<c10d::ProcessGroupNCCL>>(
      c10::make_intrusive<c10d::ProcessGroupNCCL>(std::move(store), o.rank, o.worldSize, options));
}

}  // namespace dist
}  // namespace finetorch
