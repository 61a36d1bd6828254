// DistributedDataParallel's semantics around a model's training step, on a dist::Group: rank 0's
// parameters and buffers at the start, rank 0's buffers before every forward pass, and gradients
// averaged as DDP's Reducer does (each gradient x 1/W into flat buckets, bucket SUM all-reduces
// started from autograd hooks while backward still runs, in DDP's exact bucket layout: one bucket
// in the first step, then rebuilt in gradient-ready order, 1 MiB first and bucketCap after).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/dist.h"
#include "core/train_step_hooks.h"

namespace finetorch {
namespace dist {

struct DataParallelOptions {
  bool broadcastBuffers = true;
  int64_t bucketCapBytes = 25LL * 1024 * 1024;
  int64_t firstBucketBytes = 1024 * 1024;  // torch.distributed._DEFAULT_FIRST_BUCKET_BYTES
};

// DDP's compute_bucket_assignment_by_size for tensors of one dtype and device: walks `order`
// (indices into tensors), closing a bucket once it holds at least the current limit of bytes;
// the limits are used in turn, the last one for all further buckets.
std::vector<std::vector<size_t>> AssignBuckets(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& order,
                                               const std::vector<int64_t>& limits);

class DataParallel : public TrainStepHooks {
 public:
  // Wraps `module` as DDP's constructor does: checks that every rank has the same trainable
  // parameters and broadcasts rank 0's parameters and buffers. Blocks until every rank did so.
  DataParallel(std::shared_ptr<Group> group, std::shared_ptr<torch::nn::Module> module, DataParallelOptions options);
  ~DataParallel() override;
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  void beforeForward() override;
  bool agreeFinite(bool localFinite) override;
  void beforeBackward() override;
  void afterBackward() override;

  // Rank 0's buffers on every rank (DDP's forward does this; evaluation on shards needs it too).
  void broadcastBuffers();
  // The buckets as reduced now: indices into the trainable parameters, in DDP's order.
  std::vector<std::vector<size_t>> bucketIndices() const;

 private:
  struct Bucket {
    std::vector<size_t> variables;
    at::Tensor flat;
    std::vector<at::Tensor> views;  // one per variable, in the parameter's own strides
    size_t pending = 0;
    std::shared_ptr<Pending> work;
  };
  class ReadyHook;

  std::shared_ptr<torch::nn::Module> lockedModule() const;
  // Trainable parameters (DDP's order: module by module, deduplicated), with their names.
  std::vector<std::pair<std::string, at::Tensor>> trainable() const;
  std::string signature(const std::vector<std::pair<std::string, at::Tensor>>& params) const;
  void wrap();
  void verifyAcrossRanks();
  void hook();
  void unhook();
  void initializeBuckets(std::vector<std::vector<size_t>> indices);
  void rebuildBuckets();
  void onGradReady(size_t index);

  std::shared_ptr<Group> group_;
  std::weak_ptr<torch::nn::Module> module_;
  DataParallelOptions options_;

  std::vector<std::string> names_;
  std::vector<at::Tensor> params_;
  std::string signature_;  // a change (freeze, new fc, other device or layout) wraps anew
  // A shared_ptr in LibTorch 1.x, an intrusive_ptr in 2.x: whatever grad_accumulator returns.
  using Accumulator = decltype(torch::autograd::impl::grad_accumulator(std::declval<const at::Tensor&>()));
  std::vector<Accumulator> accumulators_;
  std::vector<uintptr_t> hookKeys_;

  mutable std::mutex mutex_;  // the autograd hooks run on the backward pass's thread
  std::vector<Bucket> buckets_;
  std::vector<std::pair<size_t, size_t>> locators_;  // parameter -> (bucket, position)
  std::vector<bool> ready_;
  size_t nextBucket_ = 0;
  bool armed_ = false;
  bool rebuilt_ = false;
  std::vector<size_t> readyOrder_;  // the first step's gradient-ready order, for the rebuild
};

}  // namespace dist
}  // namespace finetorch
