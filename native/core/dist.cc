#include "core/dist.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/version.h>

#include <algorithm>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "core/error.h"

// What this LibTorch can do is read from its headers and its own build flags (find_package(Torch)
// passes USE_DISTRIBUTED), never from version numbers; each backend is compiled in by CMake after
// its own check (FINETORCH_GLOO, FINETORCH_NCCL; FINETORCH_GLOO_MISSING / FINETORCH_NCCL_MISSING
// say why one is not).
#if defined(USE_DISTRIBUTED) && __has_include(<torch/csrc/distributed/c10d/TCPStore.hpp>)
#define FINETORCH_C10D 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/dist/backend.h"
#endif

namespace finetorch {
namespace dist {

std::vector<std::string> AvailableBackends() {
  std::vector<std::string> names;
#ifdef FINETORCH_GLOO
  names.push_back("gloo");
#endif
#ifdef FINETORCH_NCCL
  names.push_back("nccl");
#endif
  return names;
}

at::Tensor SamplerPermutation(int64_t n, uint64_t seed) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return at::randperm(n, generator, at::TensorOptions().dtype(at::kLong));
}

namespace {

using Clock = std::chrono::steady_clock;

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// The message of the exception being handled, without LibTorch's C++ backtrace.
std::string CurrentMessage() {
  try {
    throw;
  } catch (const c10::Error& e) {
    return FirstLine(e.what_without_backtrace());
  } catch (const std::exception& e) {
    return FirstLine(e.what());
  } catch (...) {
    return "unknown error";
  }
}

// Why `backend` cannot run in this build, for Init's error.
std::string MissingBackend(const std::string& backend) {
  std::string built = "this finetorch addon was built against LibTorch " TORCH_VERSION;
#if !defined(USE_DISTRIBUTED)
  if (backend == "gloo" || backend == "nccl") {
    return built + " without torch.distributed (USE_DISTRIBUTED); use a LibTorch that has it";
  }
#endif
#ifdef FINETORCH_GLOO_MISSING
  if (backend == "gloo") return built + " without the Gloo backend: " FINETORCH_GLOO_MISSING;
#endif
#ifdef FINETORCH_NCCL_MISSING
  if (backend == "nccl") return built + " without the NCCL backend: " FINETORCH_NCCL_MISSING;
#endif
  return "unknown backend '" + backend + "' (expected gloo or nccl)";
}

}  // namespace

#ifdef FINETORCH_C10D
namespace {

std::string Seconds(std::chrono::milliseconds ms) {
  std::ostringstream out;
  out << static_cast<double>(ms.count()) / 1000 << " s";
  return out.str();
}

}  // namespace
#endif

struct Group::Impl {
  GroupOptions options;
  std::string store;  // "host:port", for messages
  std::mutex mutex;   // collectives are issued in one order on every rank
  std::string failure;
  bool destroyed = false;
#ifdef FINETORCH_C10D
  c10::intrusive_ptr<c10d::Store> base;
  std::unique_ptr<Collectives> collectives;
#endif

  std::string who() const {
    return "rank " + std::to_string(options.rank);
  }

  // Throws when the group can no longer be used.
  void usable() const {
    if (destroyed) throw Error(ErrorCode::kDist, "the process group was destroyed");
    if (!failure.empty()) throw Error(ErrorCode::kDist, "the process group failed earlier: " + failure);
  }

  // The error of a failed collective; the group is unusable from then on.
  [[noreturn]] void failed(const std::string& what) {
    std::string message =
        who() + ": " + what + " failed (" + CurrentMessage() + "); another rank has probably stopped: see its output";
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (failure.empty()) failure = message;
    }
    throw Error(ErrorCode::kDist, message);
  }
};

#ifdef FINETORCH_C10D
namespace {

struct WorkPending : Pending {
  WorkPending(c10::intrusive_ptr<c10d::Work> work, Group::Impl* group, std::string what)
      : work(std::move(work)), group(group), what(std::move(what)) {}
  void wait() override {
    try {
      work->wait();
    } catch (...) {
      group->failed(what);
    }
  }
  c10::intrusive_ptr<c10d::Work> work;
  Group::Impl* group;  // the Group outlives its collectives (DataParallel holds it)
  std::string what;
};

void WaitUntil(Clock::time_point deadline) {
  std::this_thread::sleep_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(20)));
}

std::chrono::milliseconds Left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

// Connects to (rank 0: hosts) the TCP store. Without torchrun's agent, rank 0 listens on
// masterPort; under it, the agent does and every rank is a client.
c10::intrusive_ptr<c10d::TCPStore> OpenStore(const Group::Impl& g, Clock::time_point deadline) {
  const GroupOptions& o = g.options;
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(o.masterPort);
  so.isServer = o.rank == 0 && !o.agentStore;
  so.numWorkers = o.worldSize;
  so.waitWorkers = false;  // the rendezvous below waits, and can name who is missing
  so.multiTenant = true;
  so.timeout = Left(deadline);
  try {
    return c10::make_intrusive<c10d::TCPStore>(o.masterAddr, so);
  } catch (...) {
    if (so.isServer) {
      throw Error(ErrorCode::kDist, g.who() + ": cannot host the rendezvous store on " + g.store + ": " +
                                        CurrentMessage() + " (is another job using MASTER_PORT " +
                                        std::to_string(o.masterPort) + "?)");
    }
    throw Error(ErrorCode::kDist, g.who() + ": no rendezvous store answered at " + g.store + " within " +
                                      Seconds(o.startupTimeout) + " (" +
                                      (o.agentStore ? "torchrun's agent hosts it" : "rank 0 hosts it") +
                                      "; check MASTER_ADDR and MASTER_PORT): " + CurrentMessage());
  }
}

// Every rank checks in and waits for the others: the store-based barrier of
// init_process_group (same key), plus one key per rank so a timeout can name who is missing.
void Rendezvous(const Group::Impl& g, c10d::Store& store, Clock::time_point deadline) {
  const GroupOptions& o = g.options;
  const std::string counter = "store_based_barrier_key:1";
  auto present = [](int rank) { return "finetorch_rank_" + std::to_string(rank); };
  store.set(present(o.rank), std::vector<uint8_t>{1});
  store.add(counter, 1);
  while (store.add(counter, 0) < o.worldSize) {
    if (Clock::now() >= deadline) {
      std::string missing;
      int count = 0;
      for (int r = 0; r < o.worldSize; ++r) {
        if (!store.check({present(r)})) missing += (count++ ? ", " : "") + std::to_string(r);
      }
      throw Error(ErrorCode::kDist, g.who() + ": rank" + (count > 1 ? "s " : " ") + missing + " of " +
                                        std::to_string(o.worldSize) + " did not join the rendezvous at " + g.store +
                                        " within " + Seconds(o.startupTimeout) +
                                        " (each needs the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE)");
    }
    WaitUntil(deadline);
  }
}

std::unique_ptr<Collectives> OpenBackend(const Group::Impl& g, c10::intrusive_ptr<c10d::Store> store) {
#ifdef FINETORCH_GLOO
  if (g.options.backend == "gloo") return OpenGloo(std::move(store), g.options);
#endif
#ifdef FINETORCH_NCCL
  if (g.options.backend == "nccl") return OpenNccl(std::move(store), g.options);
#endif
  throw Error(ErrorCode::kUnsupported, MissingBackend(g.options.backend));
}

}  // namespace
#endif

Group::Group(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Group::~Group() = default;

std::shared_ptr<Group> Group::Init(const GroupOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->store = options.masterAddr + ":" + std::to_string(options.masterPort);
  const GroupOptions& o = impl->options;
  if (o.backend != "gloo" && o.backend != "nccl") throw Error(ErrorCode::kBadInput, MissingBackend(o.backend));
  if (o.worldSize < 1 || o.rank < 0 || o.rank >= o.worldSize) {
    throw Error(ErrorCode::kBadInput,
                "rank " + std::to_string(o.rank) + " is not within a world of size " + std::to_string(o.worldSize));
  }
  auto available = AvailableBackends();
  if (std::find(available.begin(), available.end(), o.backend) == available.end()) {
    throw Error(ErrorCode::kUnsupported, MissingBackend(o.backend));
  }
#ifdef FINETORCH_C10D
  const Clock::time_point deadline = Clock::now() + o.startupTimeout;
  auto tcp = OpenStore(*impl, deadline);
  c10::intrusive_ptr<c10d::Store> base = tcp;
  if (o.agentStore) base = c10::make_intrusive<c10d::PrefixStore>(o.storePrefix, base);
  // The keys of torch.distributed.init_process_group: "default_pg", then the group's name "0".
  auto defaultGroup = c10::make_intrusive<c10d::PrefixStore>("default_pg", base);
  try {
    Rendezvous(*impl, *defaultGroup, deadline);
  } catch (const Error&) {
    throw;
  } catch (...) {
    throw Error(ErrorCode::kDist, impl->who() + ": lost the rendezvous store at " + impl->store +
                                      " while waiting for the other ranks (" +
                                      (o.agentStore ? "torchrun's agent" : "rank 0") +
                                      " hosts it and has probably stopped: see its output): " + CurrentMessage());
  }
  try {
    tcp->setTimeout(Left(deadline));  // connecting to the peers is part of start-up
    impl->collectives = OpenBackend(*impl, c10::make_intrusive<c10d::PrefixStore>("0", defaultGroup));
    // Returns when every rank is connected, so no rank leaves start-up while another still needs the store.
    impl->collectives->barrier(Left(deadline))->wait();
  } catch (const Error&) {
    throw;
  } catch (...) {
    throw Error(ErrorCode::kDist,
                impl->who() + ": joining the process group at " + impl->store + " failed: " + CurrentMessage());
  }
  tcp->setTimeout(o.timeout);
  impl->base = base;
#endif
  return std::shared_ptr<Group>(new Group(std::move(impl)));
}

int Group::rank() const {
  return impl_->options.rank;
}

int Group::worldSize() const {
  return impl_->options.worldSize;
}

const std::string& Group::backend() const {
  return impl_->options.backend;
}

at::Device Group::device() const {
  if (impl_->options.backend == "nccl") return at::Device(at::kCUDA, static_cast<int16_t>(impl_->options.deviceIndex));
  return at::Device(at::kCPU);
}

#ifdef FINETORCH_C10D
namespace {

c10d::ReduceOp ToC10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::kMin:
      return c10d::ReduceOp::MIN;
    case ReduceOp::kMax:
      return c10d::ReduceOp::MAX;
    case ReduceOp::kSum:
      break;
  }
  return c10d::ReduceOp::SUM;
}

// Tensors of one dtype, flattened into messages of at most this many bytes (DDP's broadcast bucket).
constexpr int64_t kBroadcastBucketBytes = 250LL * 1024 * 1024;

}  // namespace
#endif

void Group::barrier() {
#ifdef FINETORCH_C10D
  c10::intrusive_ptr<c10d::Work> work;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->usable();
    work = impl_->collectives->barrier(impl_->options.timeout);
  }
  WorkPending(work, impl_.get(), "a barrier").wait();
#endif
}

void Group::allReduce(at::Tensor& tensor, ReduceOp op) {
#ifdef FINETORCH_C10D
  std::vector<at::Tensor> one{tensor.to(device()).contiguous()};
  c10::intrusive_ptr<c10d::Work> work;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->usable();
    work = impl_->collectives->allreduce(one, ToC10d(op));
  }
  WorkPending(work, impl_.get(), "an all-reduce").wait();
  if (!one[0].is_same(tensor)) tensor.copy_(one[0]);
#else
  (void)tensor;
  (void)op;
#endif
}

std::shared_ptr<Pending> Group::allReduceAsync(at::Tensor tensor) {
#ifdef FINETORCH_C10D
  std::vector<at::Tensor> one{std::move(tensor)};
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->usable();
  return std::make_shared<WorkPending>(impl_->collectives->allreduce(one, c10d::ReduceOp::SUM), impl_.get(),
                                       "the all-reduce of the gradients");
#else
  (void)tensor;
  return nullptr;
#endif
}

void Group::broadcast(const std::vector<at::Tensor>& tensors, int root) {
#ifdef FINETORCH_C10D
  size_t begin = 0;
  while (begin < tensors.size()) {
    // One message: the following tensors of the same dtype, up to the bucket size.
    size_t end = begin;
    int64_t bytes = 0;
    std::vector<at::Tensor> flat;
    while (end < tensors.size() && tensors[end].scalar_type() == tensors[begin].scalar_type() &&
           (end == begin || bytes + tensors[end].nbytes() <= static_cast<size_t>(kBroadcastBucketBytes))) {
      bytes += static_cast<int64_t>(tensors[end].nbytes());
      flat.push_back(tensors[end].detach().reshape(-1));
      ++end;
    }
    std::vector<at::Tensor> message{at::cat(flat).to(device())};
    c10::intrusive_ptr<c10d::Work> work;
    {
      std::lock_guard<std::mutex> lock(impl_->mutex);
      impl_->usable();
      work = impl_->collectives->broadcast(message, root);
    }
    WorkPending(work, impl_.get(), "a broadcast from rank " + std::to_string(root)).wait();
    if (rank() != root) {
      at::NoGradGuard noGrad;
      int64_t offset = 0;
      for (size_t i = begin; i < end; ++i) {
        at::Tensor t = tensors[i];
        t.copy_(message[0].narrow(0, offset, t.numel()).view(t.sizes()));
        offset += t.numel();
      }
    }
    begin = end;
  }
#else
  (void)tensors;
  (void)root;
#endif
}

void Group::destroy() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->destroyed = true;
#ifdef FINETORCH_C10D
  impl_->collectives.reset();
  impl_->base.reset();
#endif
}

}  // namespace dist
}  // namespace finetorch
