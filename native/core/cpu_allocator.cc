#include "core/cpu_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// An idle block is poisoned, so that a use after free still reports though the block is kept.
#define FINETORCH_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define FINETORCH_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define FINETORCH_POISON(p, n)
#define FINETORCH_UNPOISON(p, n)
#endif

namespace finetorch {
namespace {

// Smaller blocks come from glibc's heap, which keeps them: caching them gains nothing.
constexpr size_t kSmallestCached = 64 * 1024;
constexpr size_t kPage = 4096;
// Room before each block for its size, keeping LibTorch's 64-byte alignment.
constexpr size_t kHeader = 64;
// A block idle this long goes back to the system: jemalloc's default dirty_decay_ms, 10 s. A
// training step reuses its blocks within milliseconds; blocks left idle longer belong to work
// that is over (models dropped, a larger working set that shrank).
constexpr std::chrono::seconds kDecay{10};
// How often the decay looks, while blocks are idle.
constexpr std::chrono::seconds kDecayTick{1};

using Clock = std::chrono::steady_clock;

struct Block {
  void* base;
  size_t bytes;
  Clock::time_point idleSince;
};

// Idle blocks by exact size. The blocks in use and idle together never exceed twice the most that
// were in use at once, and the idle ones never exceed `limit`; past that, the blocks idle longest
// go back to the system first. A training step's blocks are not all in use at the same moment
// (backward frees the forward's activations while it allocates gradients), so a step keeps more
// blocks than its peak in use. A block idle for kDecay goes back too, by a thread of the cache's
// own that wakes while blocks are idle (as jemalloc's decay purges): memory the program no longer
// uses returns without emptyCache().
class BlockCache {
 public:
  explicit BlockCache(size_t limit) : limit_(limit) {}

  // A block of `bytes` to reuse, or nullptr: then the caller allocates one and tells Added().
  void* Take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto bucket = bySize_.find(bytes);
    if (bucket == bySize_.end()) return nullptr;
    auto block = bucket->second.back();
    bucket->second.pop_back();
    if (bucket->second.empty()) bySize_.erase(bucket);
    void* base = block->base;
    idle_.erase(block);
    idleBytes_ -= bytes;
    inUse_ += bytes;
    FINETORCH_UNPOISON(base, bytes);
    return base;
  }

  void Added(size_t bytes) {
    Free(Update(
        [&] {
          inUse_ += bytes;
          peakInUse_ = std::max(peakInUse_, inUse_);
        },
        limit_));
  }

  void Keep(void* base, size_t bytes) {
    FINETORCH_POISON(base, bytes);
    bool first = false;
    Free(Update(
        [&] {
          first = idle_.empty();
          idle_.push_back(Block{base, bytes, Clock::now()});
          bySize_[bytes].push_back(std::prev(idle_.end()));
          idleBytes_ += bytes;
          inUse_ -= bytes;
          if (!decaying_) StartDecay();
        },
        limit_));
    if (first) wake_.notify_one();
  }

  void Empty() {
    Free(Update([] {}, /*idleLimit=*/0));
  }

  size_t IdleBytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return idleBytes_;
  }

 private:
  // Caller holds the lock. The oldest idle block is the first of its size's bucket too.
  void* DropOldest() {
    Block block = idle_.front();
    auto bucket = bySize_.find(block.bytes);
    bucket->second.pop_front();
    if (bucket->second.empty()) bySize_.erase(bucket);
    idle_.pop_front();
    idleBytes_ -= block.bytes;
    FINETORCH_UNPOISON(block.base, block.bytes);
    return block.base;
  }

  // Applies `change` under the lock, then takes out the idle blocks over the bounds, for Free()
  // to give back outside it.
  template <typename Change>
  std::vector<void*> Update(Change change, size_t idleLimit) {
    std::vector<void*> over;
    std::lock_guard<std::mutex> lock(mutex_);
    change();
    while (!idle_.empty() && (idleBytes_ > idleLimit || idleBytes_ + inUse_ > 2 * peakInUse_)) {
      over.push_back(DropOldest());
    }
    return over;
  }

  static void Free(const std::vector<void*>& blocks) {
    for (void* p : blocks) c10::free_cpu(p);
  }

  // Caller holds the lock. The decay thread, started with the first idle block; it lives as long
  // as the process, asleep while nothing is idle.
  void StartDecay() {
    decaying_ = true;
    std::thread([this] { Decay(); }).detach();
  }

  void Decay() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (idle_.empty()) {
        wake_.wait(lock);
      } else {
        wake_.wait_for(lock, kDecayTick);
      }
      // The oldest idle block is the first: those idle for kDecay are a prefix of the list.
      std::vector<void*> expired;
      const auto cutoff = Clock::now() - kDecay;
      while (!idle_.empty() && idle_.front().idleSince <= cutoff) expired.push_back(DropOldest());
      if (expired.empty()) continue;
      lock.unlock();
      Free(expired);
#if defined(__GLIBC__)
      // glibc keeps freed blocks below its mmap threshold in its heap: hand those pages back too.
      malloc_trim(0);
#endif
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;  // a block went idle while none was
  bool decaying_ = false;
  const size_t limit_;
  size_t idleBytes_ = 0;
  size_t inUse_ = 0;
  size_t peakInUse_ = 0;
  std::list<Block> idle_;  // least recently freed first
  std::unordered_map<size_t, std::deque<std::list<Block>::iterator>> bySize_;
};

size_t PhysicalMemory() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : size_t{1} << 32;
}

BlockCache& Cache() {
  // Never destroyed: tensors may be freed during the process's exit, after static destructors.
  static auto* cache = new BlockCache(PhysicalMemory() / 4);
  return *cache;
}

size_t Rounded(size_t bytes) {
  return (bytes + kPage - 1) / kPage * kPage;
}

// The deleter of every block: the block's size is in its header.
void Release(void* data) {
  void* base = static_cast<char*>(data) - kHeader;
  size_t bytes;
  std::memcpy(&bytes, base, sizeof bytes);
  if (bytes < kSmallestCached) {
    c10::free_cpu(base);
  } else {
    Cache().Keep(base, bytes);
  }
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  // LibTorch 2.3 dropped `const` from allocate(): one of these two overrides it, whichever the
  // headers declare.
  c10::DataPtr allocate(size_t bytes) const { return Allocate(bytes); }
  c10::DataPtr allocate(size_t bytes) { return Allocate(bytes); }
  // Pure virtual from LibTorch 2.3 on; an ordinary member before.
  void copy_data(void* dest, const void* src, size_t count) const { std::memcpy(dest, src, count); }
  // oneDNN allocates through raw_allocate(), which needs one deleter for all blocks and the data
  // pointer as the context.
  c10::DeleterFnPtr raw_deleter() const override { return &Release; }

 private:
  static c10::DataPtr Allocate(size_t bytes) {
    const bool cached = bytes + kHeader >= kSmallestCached;
    const size_t total = cached ? Rounded(bytes + kHeader) : bytes + kHeader;
    void* base = cached ? Cache().Take(total) : nullptr;
    if (base == nullptr) {
      base = c10::alloc_cpu(total);
      std::memcpy(base, &total, sizeof total);
      if (cached) Cache().Added(total);
    }
    void* data = static_cast<char*>(base) + kHeader;
    return {data, data, &Release, c10::Device(c10::DeviceType::CPU)};
  }
};

}  // namespace

void UseCachingCpuAllocator() {
  static auto* allocator = new CachingCpuAllocator();
  c10::SetCPUAllocator(allocator, /*priority=*/1);
}

size_t IdleCpuCacheBytes() {
  return Cache().IdleBytes();
}

void ReleaseCpuCache() {
  Cache().Empty();
}

}  // namespace finetorch
