#include "core/batch.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <thread>

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

#include "core/bitmap.h"
#include "core/error.h"
#include "core/normalize.h"
#ifdef FINETORCH_HAVE_JPEG
#include "core/jpeg.h"
#endif

namespace finetorch {
namespace {

// Bounds the memory of the images decoding at once: a thread waits until its image fits beside
// the others, except when none is in flight (an image bigger than the whole budget runs alone).
class MemoryBudget {
 public:
  explicit MemoryBudget(int64_t limit) : limit_(limit) {}

  void Acquire(int64_t bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    freed_.wait(lock, [&] { return used_ == 0 || used_ + bytes <= limit_; });
    used_ += bytes;
  }

  void Release(int64_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      used_ -= bytes;
    }
    freed_.notify_all();
  }

 private:
  const int64_t limit_;
  int64_t used_ = 0;
  std::mutex mutex_;
  std::condition_variable freed_;
};

class Reservation {
 public:
  Reservation(MemoryBudget& budget, int64_t bytes) : budget_(budget), bytes_(bytes) { budget_.Acquire(bytes_); }
  ~Reservation() { budget_.Release(bytes_); }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;

 private:
  MemoryBudget& budget_;
  const int64_t bytes_;
};

// A JPEG the native decoder leaves to another.
struct Unsupported {
  std::string reason;
};

// Buffers one thread reuses from image to image; one that grew past kKeptScratch for a big
// image is freed after it, so the memory budget stays true for the next.
constexpr size_t kKeptScratch = 32 << 20;

struct Scratch {
  std::vector<uint8_t> file, decoded;

  void Trim() {
    for (auto* v : {&file, &decoded}) {
      if (v->capacity() > kKeptScratch) *v = {};
    }
  }
};

void ReadFile(const std::string& file, std::vector<uint8_t>& into) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) throw Error(ErrorCode::kImageDecode, std::strerror(errno));
  long size = -1;
  if (std::fseek(f, 0, SEEK_END) == 0) size = std::ftell(f);
  std::rewind(f);
  if (size >= 0) into.resize(static_cast<size_t>(size));
  const bool ok = size >= 0 && std::fread(into.data(), 1, into.size(), f) == into.size();
  const int code = errno;
  std::fclose(f);
  if (!ok) throw Error(ErrorCode::kImageDecode, size < 0 ? std::strerror(code) : "the file changed while read");
}

bool IsIdentity(const PixelPlan& p, int width, int height) {
  return p.pre.left == 0 && p.pre.top == 0 && p.pre.width == width && p.pre.height == height &&
         p.resizedWidth == width && p.resizedHeight == height && p.post.left == 0 && p.post.top == 0 &&
         p.post.width == width && p.post.height == height && !p.flipped && !p.window;
}

bool Inside(const Box& box, int width, int height) {
  return box.left >= 0 && box.top >= 0 && box.width > 0 && box.height > 0 && box.left + box.width <= width &&
         box.top + box.height <= height;
}

// What RenderPixels allocates for a plan, as pixels of four floats: a ring of horizontally
// resampled rows (the vertical filter's taps, at most 2 x ceil(2 x the reduction) + 1) and one
// source row.
int64_t RenderBytes(const PixelPlan& p) {
  const double reduction = std::max(static_cast<double>(p.pre.height) / p.resizedHeight, 1.0);
  const int64_t taps = 2 * static_cast<int64_t>(std::ceil(2 * reduction)) + 1;
  return (taps * p.post.width + p.pre.width) * 16;
}

// The source pixels of an item and the plan to run on them: a file's are decoded here, only the
// box its view reads (at 1/scale, the exact box becoming the resample's window).
struct Source {
  const uint8_t* pixels;
  int width, height, channels;
  PixelPlan plan;
  // A JPEG read to its end without error: the file's size.
  int64_t checkedBytes = -1;
};

void CheckView(const Box& pre, int width, int height) {
  if (!Inside(pre, width, height)) {
    throw Error(ErrorCode::kBadInput,
                "the view's crop does not fit the " + std::to_string(width) + "x" + std::to_string(height) + " image");
  }
}

#ifdef FINETORCH_HAVE_JPEG
Source DecodeJpeg(const BatchItem& item, const BatchOptions& options, MemoryBudget& budget,
                  std::optional<Reservation>& reserved, Scratch& scratch) {
  JpegDecoder decoder(scratch.file.data(), scratch.file.size(), {options.maxPixels, options.maxPixels * 6});
  if (!decoder.unsupported().empty()) throw Unsupported{decoder.unsupported()};
  PixelPlan plan = item.plan;
  const Box pre = plan.pre;
  CheckView(pre, decoder.width(), decoder.height());
  const int s = item.scale;
  JpegBox box{pre.left, pre.top, pre.width, pre.height};
  if (s != 1) {
    const int right = std::min(static_cast<int>(std::ceil(static_cast<double>(pre.left + pre.width) / s)),
                               JpegDecoder::ScaledSize(decoder.width(), s));
    const int bottom = std::min(static_cast<int>(std::ceil(static_cast<double>(pre.top + pre.height) / s)),
                                JpegDecoder::ScaledSize(decoder.height(), s));
    box = {pre.left / s, pre.top / s, right - pre.left / s, bottom - pre.top / s};
    plan.window = Window{static_cast<double>(pre.left) / s - box.left, static_cast<double>(pre.top) / s - box.top,
                         static_cast<double>(pre.width) / s, static_cast<double>(pre.height) / s};
  }
  plan.pre = {0, 0, box.width, box.height};
  const int channels = decoder.channels();
  const int64_t decodedBytes = static_cast<int64_t>(decoder.MaxStride(box.width)) * box.height * channels;
  reserved.emplace(budget, decoder.workingBytes() + decodedBytes + RenderBytes(plan));
  scratch.decoded.resize(static_cast<size_t>(decodedBytes));
  const int64_t fileBytes = static_cast<int64_t>(scratch.file.size());
  const bool toEnd = item.checkedBytes != fileBytes;
  const JpegDecoder::Rows rows = decoder.Decode(s, box, toEnd, scratch.decoded.data());
  plan.pre.left = rows.left;
  return {scratch.decoded.data(), rows.stride, box.height, channels, plan, toEnd ? fileBytes : -1};
}
#endif

Source DecodeBitmap(const BatchItem& item, const BatchOptions& options, MemoryBudget& budget,
                    std::optional<Reservation>& reserved, Scratch& scratch) {
  BitmapDecoder decoder(scratch.file.data(), scratch.file.size(), options.maxPixels);
  CheckView(item.plan.pre, decoder.width(), decoder.height());
  const int64_t decodedBytes = static_cast<int64_t>(decoder.width()) * decoder.height() * decoder.channels();
  // RLE files also hold their palette indices while they decode.
  reserved.emplace(budget, 2 * decodedBytes + RenderBytes(item.plan));
  scratch.decoded.resize(static_cast<size_t>(decodedBytes));
  decoder.Decode(scratch.decoded.data());
  return {scratch.decoded.data(), decoder.width(), decoder.height(), decoder.channels(), item.plan};
}

// A file's pixels: JPEGs decoded by libjpeg-turbo (only the box the view reads, at 1/scale, the
// exact box then being the resample's window), Netpbm and BMP files whole.
Source DecodeFile(const BatchItem& item, const BatchOptions& options, MemoryBudget& budget,
                  std::optional<Reservation>& reserved, Scratch& scratch) {
  ReadFile(item.file, scratch.file);
  const std::vector<uint8_t>& bytes = scratch.file;
  if (bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) {
#ifdef FINETORCH_HAVE_JPEG
    return DecodeJpeg(item, options, budget, reserved, scratch);
#else
    throw Unsupported{"this build of finetorch has no libjpeg-turbo"};
#endif
  }
  if (BitmapDecoder::Recognizes(bytes.data(), bytes.size()))
    return DecodeBitmap(item, options, budget, reserved, scratch);
  throw Unsupported{"not a JPEG, Netpbm or BMP file"};
}

// Returns Source::checkedBytes.
int64_t MakeItem(const BatchItem& item, const BatchOptions& options, MemoryBudget& budget, Scratch& scratch) {
  if (item.plan.post.width <= 0 || item.plan.post.height <= 0 || item.plan.resizedWidth <= 0 ||
      item.plan.resizedHeight <= 0) {
    throw Error(ErrorCode::kBadInput, "empty output size");
  }
  std::optional<Reservation> reserved;
  Source source = item.file.empty() ? Source{item.pixels, item.width, item.height, item.channels, item.plan}
                                    : DecodeFile(item, options, budget, reserved, scratch);
  const PixelPlan& plan = source.plan;
  if ((source.channels != 1 && source.channels != 3) || !Inside(plan.pre, source.width, source.height)) {
    throw Error(ErrorCode::kBadInput, "the view does not fit the pixels");
  }
  // Pixels the view leaves alone (a cached eval image, Fashion-MNIST's 28x28) are only copied or
  // normalised: the resampler would give the same values, at several times the cost for small images.
  if (IsIdentity(plan, source.width, source.height) && (source.channels == 3 || item.floats)) {
    if (item.bytes) {
      std::memcpy(item.bytes, source.pixels, static_cast<size_t>(source.width) * source.height * 3);
    } else {
      NormalizeImage(source.pixels, source.height, source.width, source.channels,
                     Normalization::Of(options.mean, options.std), item.floats);
    }
    return source.checkedBytes;
  }
  if (!reserved) reserved.emplace(budget, RenderBytes(plan));
  if (item.bytes) {
    RenderPixels(source.pixels, source.width, source.height, source.channels, plan, item.bytes);
  } else {
    RenderPixels(source.pixels, source.width, source.height, source.channels, plan,
                 Normalization::Of(options.mean, options.std), item.floats);
  }
  return source.checkedBytes;
}

// The calling thread runs only on cores nothing else wants.
void YieldCoresToOtherWork() {
#ifdef __linux__
  sched_param none{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);
#endif
}

// Back to normal priority; false where the process may not (Linux lets only CAP_SYS_NICE or a
// raised RLIMIT_NICE undo SCHED_IDLE).
bool ClaimCoresBack(std::thread& thread) {
#ifdef __linux__
  sched_param none{};
  return pthread_setschedparam(thread.native_handle(), SCHED_OTHER, &none) == 0;
#else
  (void)thread;
  return true;
#endif
}

}  // namespace

bool HaveNativeJpeg() {
#ifdef FINETORCH_HAVE_JPEG
  return true;
#else
  return false;
#endif
}

std::string JpegBackend() {
#ifdef FINETORCH_HAVE_JPEG
  return JpegBackendName();
#else
  return "";
#endif
}

std::vector<ItemResult> RenderBatch(const std::vector<BatchItem>& items, const BatchOptions& options) {
  std::vector<ItemResult> results(items.size());
  MemoryBudget budget(options.memoryBudget);
  std::atomic<size_t> next{0};
  auto work = [&] {
    Scratch scratch;
    for (size_t i; (i = next++) < items.size();) {
      ItemResult& result = results[i];
      try {
        if (!items[i].floats && !items[i].bytes) throw Error(ErrorCode::kBadInput, "no destination");
        result.checkedBytes = MakeItem(items[i], options, budget, scratch);
      } catch (const Unsupported& e) {
        result = {ItemStatus::kUnsupported, e.reason};
      } catch (const std::bad_alloc&) {
        result = {ItemStatus::kFailed, "out of memory"};
      } catch (const std::exception& e) {
        result = {ItemStatus::kFailed, e.what()};
      }
      scratch.Trim();
    }
  };
  const size_t threads = std::min(items.size(), static_cast<size_t>(std::max(options.threads, 1)));
  auto waitedFor = [&] { return !options.waitedFor || __atomic_load_n(options.waitedFor, __ATOMIC_RELAXED) != 0; };
  std::vector<std::thread> helpers;
  bool helpersAtNormalPriority = true;
  if (!waitedFor()) {
    for (size_t t = 0; t < threads; ++t) {
      helpers.emplace_back([&] {
        YieldCoresToOtherWork();
        work();
      });
    }
    // Polled: JavaScript sets the flag in memory, it cannot wake this thread.
    while (next.load() < items.size() && !waitedFor()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (waitedFor()) {
      for (std::thread& helper : helpers) helpersAtNormalPriority = ClaimCoresBack(helper) && helpersAtNormalPriority;
    }
  }
  // Threads at the caller's priority make what is left (the caller's thread one of them).
  if (helpers.empty() || (!helpersAtNormalPriority && next.load() < items.size())) {
    for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
    work();
  }
  for (std::thread& helper : helpers) helper.join();
  return results;
}

}  // namespace finetorch
