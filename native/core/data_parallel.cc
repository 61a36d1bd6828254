#include "core/data_parallel.h"

#include <ATen/ScalarOps.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/utils/grad_layout_contract.h>

#include <limits>
#include <sstream>
#include <unordered_set>

#include "core/error.h"

namespace finetorch {
namespace dist {

std::vector<std::vector<size_t>> AssignBuckets(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& order,
                                               const std::vector<int64_t>& limits) {
  std::vector<std::vector<size_t>> buckets;
  std::vector<size_t> open;
  int64_t bytes = 0;
  size_t limit = 0;
  for (size_t index : order) {
    const at::Tensor& t = tensors[index];
    open.push_back(index);
    bytes += static_cast<int64_t>(t.numel() * t.element_size());
    if (bytes >= limits[limit]) {
      buckets.push_back(std::move(open));
      open.clear();
      bytes = 0;
      if (limit + 1 < limits.size()) ++limit;
    }
  }
  if (!open.empty()) buckets.push_back(std::move(open));
  return buckets;
}

// Runs after a parameter's AccumulateGrad: its gradient for this backward pass is complete.
class DataParallel::ReadyHook : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(DataParallel* owner, size_t index) : owner_(owner), index_(index) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    owner_->onGradReady(index_);
    return outputs;
  }

 private:
  DataParallel* owner_;  // removes this hook before it goes
  size_t index_;
};

DataParallel::DataParallel(std::shared_ptr<Group> group, std::shared_ptr<torch::nn::Module> module,
                           DataParallelOptions options)
    : group_(std::move(group)), module_(module), options_(options) {
  if (options_.bucketCapBytes < 1) throw Error(ErrorCode::kBadInput, "the bucket cap must be positive");
  wrap();
}

DataParallel::~DataParallel() {
  unhook();
}

std::shared_ptr<torch::nn::Module> DataParallel::lockedModule() const {
  auto module = module_.lock();
  if (!module) throw Error(ErrorCode::kDisposed, "the model of this data-parallel wrapper has been disposed");
  return module;
}

std::vector<std::pair<std::string, at::Tensor>> DataParallel::trainable() const {
  std::vector<std::pair<std::string, at::Tensor>> params;
  std::unordered_set<const void*> seen;
  for (const auto& module : lockedModule()->named_modules()) {
    std::string prefix = module.key().empty() ? "" : module.key() + ".";
    for (const auto& p : module.value()->named_parameters(/*recurse=*/false)) {
      if (p.value().requires_grad() && seen.insert(p.value().unsafeGetTensorImpl()).second) {
        params.emplace_back(prefix + p.key(), p.value());
      }
    }
  }
  return params;
}

std::string DataParallel::signature(const std::vector<std::pair<std::string, at::Tensor>>& params) const {
  std::ostringstream out;
  for (const auto& [name, p] : params) {
    out << name << p.sizes() << p.strides() << p.device() << p.scalar_type() << p.unsafeGetTensorImpl()
        << torch::autograd::impl::try_get_grad_accumulator(p).get() << ';';
  }
  return out.str();
}

// DDP's constructor: same model everywhere, rank 0's weights, one bucket until the first backward
// pass has shown the order in which gradients become ready.
void DataParallel::wrap() {
  unhook();
  auto params = trainable();
  if (params.empty()) {
    throw Error(ErrorCode::kBadInput, "data-parallel training needs at least one parameter that requires a gradient");
  }
  names_.clear();
  params_.clear();
  for (auto& [name, p] : params) {
    names_.push_back(name);
    params_.push_back(p);
  }
  verifyAcrossRanks();
  auto module = lockedModule();
  std::vector<at::Tensor> states = module->parameters();
  for (const auto& b : module->buffers()) states.push_back(b);
  {
    torch::NoGradGuard noGrad;
    group_->broadcast(states, 0);
  }
  hook();
  std::vector<size_t> order(params_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto indices = AssignBuckets(params_, order, {std::numeric_limits<int64_t>::max()});
  std::reverse(indices.begin(), indices.end());
  initializeBuckets(std::move(indices));
  rebuilt_ = false;
  readyOrder_.clear();
  signature_ = signature(params);  // after hook(): the accumulators now exist
}

// Every rank must reduce the same parameters in the same layout (DDP's
// verify_params_across_processes); all ranks fail together, the odd one naming the parameter.
void DataParallel::verifyAcrossRanks() {
  const int world = group_->worldSize();
  const int rank = group_->rank();
  std::vector<int64_t> meta{static_cast<int64_t>(params_.size())};
  for (const auto& p : params_) {
    meta.push_back(static_cast<int64_t>(p.scalar_type()));
    meta.push_back(p.dim());
    for (int64_t s : p.sizes()) meta.push_back(s);
    for (int64_t s : p.strides()) meta.push_back(s);
  }
  at::Tensor lengths = at::zeros({world}, at::kLong);
  lengths[rank] = static_cast<int64_t>(meta.size());
  group_->allReduce(lengths, ReduceOp::kSum);
  std::string problem;
  if (!lengths.eq(lengths[0]).all().item<bool>()) {
    if (lengths[rank].item<int64_t>() != lengths[0].item<int64_t>()) {
      problem = "its " + std::to_string(params_.size()) +
                " trainable parameters differ from rank 0's in number or dimensions";
    }
  } else {
    at::Tensor mine = at::tensor(meta, at::kLong);
    at::Tensor rank0 = mine.clone();
    group_->broadcast({rank0}, 0);
    auto a = mine.accessor<int64_t, 1>();
    auto b = rank0.accessor<int64_t, 1>();
    if (a[0] != b[0]) {
      problem = "it has " + std::to_string(a[0]) + " trainable parameters, rank 0 " + std::to_string(b[0]);
    }
    int64_t pos = 1;
    for (size_t i = 0; i < params_.size() && problem.empty(); ++i) {
      int64_t span = 2 + 2 * params_[i].dim();
      for (int64_t k = pos; k < pos + span; ++k) {
        if (a[k] != b[k]) {
          problem = "parameter '" + names_[i] + "' (shape " + c10::str(params_[i].sizes()) +
                    ") differs from rank 0's in shape, layout or dtype";
          break;
        }
      }
      pos += span;
    }
  }
  at::Tensor bad = at::zeros({world}, at::kLong);
  bad[rank] = problem.empty() ? 0 : 1;
  group_->allReduce(bad, ReduceOp::kSum);
  if (!problem.empty()) {
    throw Error(ErrorCode::kDist, "rank " + std::to_string(rank) + ": " + problem +
                                      "; every rank must train the same model with the same parameters frozen");
  }
  if (bad.sum().item<int64_t>() > 0) {
    std::string odd;
    for (int r = 0; r < world; ++r) {
      if (bad[r].item<int64_t>()) odd += (odd.empty() ? "" : ", ") + std::to_string(r);
    }
    throw Error(ErrorCode::kDist, "rank " + std::to_string(rank) + ": the model of rank(s) " + odd +
                                      " differs from rank 0's (see their message)");
  }
}

void DataParallel::hook() {
  for (size_t i = 0; i < params_.size(); ++i) {
    // The accumulator is held only weakly by the parameter: keep it, and the hook with it.
    accumulators_.push_back(torch::autograd::impl::grad_accumulator(params_[i]));
    hookKeys_.push_back(accumulators_.back()->add_post_hook(std::make_unique<ReadyHook>(this, i)));
  }
}

void DataParallel::unhook() {
  for (size_t i = 0; i < accumulators_.size(); ++i) accumulators_[i]->del_post_hook(hookKeys_[i]);
  accumulators_.clear();
  hookKeys_.clear();
}

void DataParallel::initializeBuckets(std::vector<std::vector<size_t>> indices) {
  buckets_.clear();
  locators_.assign(params_.size(), {0, 0});
  for (auto& variables : indices) {
    Bucket bucket;
    int64_t total = 0;
    for (size_t v : variables) total += params_[v].numel();
    bucket.flat = at::empty({total}, params_[variables.front()].options());
    int64_t offset = 0;
    for (size_t v : variables) {
      const at::Tensor& p = params_[v];
      locators_[v] = {buckets_.size(), bucket.views.size()};
      // Views in the parameter's own strides, where AccumulateGrad puts its gradient (DDP's
      // "gradient layout contract"): copies in and out stay plain.
      bucket.views.push_back(p.is_non_overlapping_and_dense()
                                 ? bucket.flat.as_strided(p.sizes(), p.strides(), offset)
                                 : bucket.flat.narrow(0, offset, p.numel()).view(p.sizes()));
      offset += p.numel();
    }
    bucket.variables = std::move(variables);
    buckets_.push_back(std::move(bucket));
  }
}

// DDP's rebuild_buckets: the first step's gradient-ready order, cut at 1 MiB then at the cap, and
// rank 0's result everywhere (sync_bucket_indices).
void DataParallel::rebuildBuckets() {
  auto indices = AssignBuckets(params_, readyOrder_, {options_.firstBucketBytes, options_.bucketCapBytes});
  std::vector<int32_t> flat;
  for (const auto& bucket : indices) {
    for (size_t v : bucket) flat.push_back(static_cast<int32_t>(v));
  }
  flat.push_back(static_cast<int32_t>(indices.size()));
  at::Tensor message = at::tensor(flat, at::kInt);
  group_->broadcast({message}, 0);
  int32_t count = message[-1].item<int32_t>();
  at::Tensor sizes = at::zeros({count}, at::kInt);
  for (int32_t b = 0; b < count && b < static_cast<int32_t>(indices.size()); ++b) {
    sizes[b] = static_cast<int32_t>(indices[b].size());
  }
  group_->broadcast({sizes}, 0);
  auto all = message.accessor<int32_t, 1>();
  auto each = sizes.accessor<int32_t, 1>();
  std::vector<std::vector<size_t>> synced(count);
  int64_t next = 0;
  for (int32_t b = 0; b < count; ++b) {
    for (int32_t k = 0; k < each[b]; ++k) synced[b].push_back(static_cast<size_t>(all[next++]));
  }
  initializeBuckets(std::move(synced));
  rebuilt_ = true;
  readyOrder_.clear();
}

void DataParallel::beforeForward() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (signature(trainable()) != signature_) {
    wrap();  // trainable parameters changed since: as a new DistributedDataParallel would
  } else if (!rebuilt_ && readyOrder_.size() == params_.size()) {
    rebuildBuckets();
  }
  if (options_.broadcastBuffers) broadcastBuffers();
}

void DataParallel::broadcastBuffers() {
  std::vector<at::Tensor> buffers = lockedModule()->buffers();
  if (buffers.empty()) return;
  torch::NoGradGuard noGrad;
  group_->broadcast(buffers, 0);
}

bool DataParallel::agreeFinite(bool localFinite) {
  at::Tensor finite = at::full({1}, localFinite ? 1 : 0, at::kInt);
  group_->allReduce(finite, ReduceOp::kMin);
  return finite.item<int32_t>() == 1;
}

// DDP's prepare_for_backward: every gradient is expected once.
void DataParallel::beforeBackward() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& bucket : buckets_) {
    bucket.pending = bucket.variables.size();
    bucket.work.reset();
  }
  ready_.assign(params_.size(), false);
  nextBucket_ = 0;
  if (!rebuilt_) readyOrder_.clear();
  armed_ = true;
}

// DDP's autograd_hook + mark_variable_ready: the gradient x 1/W into its bucket; a full bucket
// starts its all-reduce, buckets in order so that every rank issues the same sequence.
void DataParallel::onGradReady(size_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_) return;
  if (ready_[index]) {
    throw Error(ErrorCode::kDist, "parameter '" + names_[index] +
                                      "' received its gradient twice in one backward pass; data-parallel training "
                                      "reduces each gradient once per step");
  }
  ready_[index] = true;
  if (!rebuilt_) readyOrder_.push_back(index);
  auto [b, position] = locators_[index];
  Bucket& bucket = buckets_[b];
  at::Tensor& view = bucket.views[position];
  const at::Tensor& grad = params_[index].grad();
  if (grad.defined()) {
    // Divided while copied in, as DDP's Reducer does (same kernel, same rounding).
    at::mul_out(view, grad, at::native::wrapped_scalar_tensor(1.0 / group_->worldSize()));
  } else {
    view.zero_();
  }
  if (--bucket.pending > 0) return;
  while (nextBucket_ < buckets_.size() && buckets_[nextBucket_].pending == 0) {
    Bucket& next = buckets_[nextBucket_++];
    next.work = group_->allReduceAsync(next.flat);
  }
}

// DDP's finalize_backward: wait for every bucket and copy the averages into the gradients.
void DataParallel::afterBackward() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
  if (nextBucket_ < buckets_.size()) {
    std::string missing;
    for (size_t i = 0; i < params_.size(); ++i) {
      if (!ready_[i]) missing += (missing.empty() ? "'" : ", '") + names_[i] + "'";
    }
    throw Error(ErrorCode::kDist, "no gradient reached " + missing +
                                      " in this backward pass; data-parallel training needs every trainable "
                                      "parameter to take part in the loss (or freeze it)");
  }
  for (auto& bucket : buckets_) {
    bucket.work->wait();
    bucket.work.reset();
    for (size_t k = 0; k < bucket.variables.size(); ++k) {
      at::Tensor& param = params_[bucket.variables[k]];
      at::Tensor& grad = param.mutable_grad();
      if (grad.defined()) {
        grad.copy_(bucket.views[k]);
      } else {
        grad = torch::autograd::utils::clone_obey_contract(bucket.views[k], param);
      }
    }
  }
}

std::vector<std::vector<size_t>> DataParallel::bucketIndices() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::vector<size_t>> indices;
  for (const auto& bucket : buckets_) indices.push_back(bucket.variables);
  return indices;
}

}  // namespace dist
}  // namespace finetorch
