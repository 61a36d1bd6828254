// torch.distributed's own engine (c10d) from C++: the rendezvous store and a process group of the
// ranks of one job, with the collectives training needs. Which backends exist is decided when the
// addon is compiled (c10d Gloo needs gloo's headers, NCCL a CUDA LibTorch); without them Init
// explains what is missing. c10d's types stay inside dist.cc.
#pragma once
#include <ATen/ATen.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace finetorch {
namespace dist {

// The backends this build can run: "gloo" (CPU tensors) and/or "nccl" (CUDA tensors).
std::vector<std::string> AvailableBackends();

struct GroupOptions {
  std::string backend = "gloo";
  int rank = 0;
  int worldSize = 1;
  // Where the store listens: rank 0 hosts it, unless torchrun's agent already does (agentStore),
  // in which case every rank joins it under storePrefix ("/worker/attempt_<restart count>").
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  bool agentStore = false;
  std::string storePrefix;
  // One deadline for the whole start-up (store, every peer, connections); then one per collective.
  std::chrono::milliseconds startupTimeout{std::chrono::minutes(5)};
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // Network interfaces for Gloo (GLOO_SOCKET_IFNAME); empty: the address that reaches masterAddr.
  std::vector<std::string> interfaces;
  // The CUDA device of this rank's tensors (NCCL only).
  int deviceIndex = 0;
};

enum class ReduceOp { kSum, kMin, kMax };

// A collective in flight; wait() returns once it is complete and throws if it failed.
class Pending {
 public:
  virtual ~Pending() = default;
  virtual void wait() = 0;
};

class Group {
 public:
  // Joins the job: blocks until every rank is there or the start-up deadline passes.
  // Throws Error(kUnsupported) for a backend this build lacks, Error(kDist) for a missing peer.
  static std::shared_ptr<Group> Init(const GroupOptions& options);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const;
  int worldSize() const;
  const std::string& backend() const;
  // Where this backend's tensors live: the CPU for Gloo, this rank's GPU for NCCL.
  at::Device device() const;

  void barrier();
  // In place, on every rank; `tensor` may live anywhere (it travels through the backend's device).
  void allReduce(at::Tensor& tensor, ReduceOp op);
  // Starts a SUM all-reduce of a tensor on device(); the tensor must stay alive until wait().
  std::shared_ptr<Pending> allReduceAsync(at::Tensor tensor);
  // Every rank's tensors become root's, a few large messages for many small tensors
  // (as broadcast_coalesced). Same shapes and dtypes on every rank.
  void broadcast(const std::vector<at::Tensor>& tensors, int root);

  // Closes the connections; later calls throw.
  void destroy();

  struct Impl;  // c10d's objects, in dist.cc

 private:
  explicit Group(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The permutation DistributedSampler shuffles with: torch.randperm(n, generator seeded with seed).
at::Tensor SamplerPermutation(int64_t n, uint64_t seed);

}  // namespace dist
}  // namespace finetorch
