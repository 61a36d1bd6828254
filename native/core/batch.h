// One batch of images made in one call: each image is read, decoded (JPEG files with
// libjpeg-turbo, only the rows and columns its view needs), cropped, resampled as PIL resamples,
// mirrored and normalised, on native threads, straight into its slot of the batch's float32 NCHW
// buffer. Each image succeeds or fails alone, so one bad file never loses the rest of a batch.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/resample.h"

namespace finetorch {

struct BatchItem {
  // An image file to decode natively (JPEG, Netpbm or BMP; anything else is kUnsupported), or
  // (file empty) 8-bit pixels in memory, HWC, 1 or 3 channels.
  std::string file;
  const uint8_t* pixels = nullptr;
  int width = 0, height = 0, channels = 0;
  // The view, in the source's full-size pixels (for a file: its stored size, no EXIF rotation).
  PixelPlan plan{};
  // A JPEG decoded at 1/scale (DCT scaling: 1, 2, 4 or 8); 1 decodes exactly what PIL decodes.
  int scale = 1;
  // The file's size when its whole JPEG stream last decoded cleanly (ItemResult::checkedBytes), or
  // -1. A JPEG is read to its end, so damage anywhere fails whichever view was asked for, unless
  // it was checked at this size before: then decoding stops after the view's last row.
  int64_t checkedBytes = -1;
  // Where the result goes: plan.post's size as normalised float32 CHW, or as uint8 HWC RGB.
  float* floats = nullptr;
  uint8_t* bytes = nullptr;
};

struct BatchOptions {
  // floats = (byte / 255 - mean) / std per channel.
  std::array<float, 3> mean{0, 0, 0};
  std::array<float, 3> std{1, 1, 1};
  // Threads decoding at once.
  int threads = 1;
  // A file whose header claims more pixels is refused before anything is allocated.
  int64_t maxPixels = 0;
  // Decode memory of the images in flight together (an image that needs more runs alone).
  int64_t memoryBudget = 0;
  // A flag the caller sets (non-zero) once something waits for this batch, or null. Until it is set
  // the batch is being made ahead of need, and its threads yield the cores to any other work
  // (Linux: SCHED_IDLE), so a loader working ahead takes only what training steps leave idle;
  // once it is set, threads at the caller's priority join in. Null: the caller's priority throughout.
  const int32_t* waitedFor = nullptr;
};

enum class ItemStatus {
  kOk,
  kUnsupported,  // a file this decoder leaves to another (CMYK JPEG, PNG...): message says why
  kFailed,       // unreadable or corrupt: message says why
};

struct ItemResult {
  ItemStatus status = ItemStatus::kOk;
  std::string message;
  // A JPEG file read to its end without error: the file's size (-1 otherwise).
  int64_t checkedBytes = -1;
};

// Whether JPEG files can be decoded (the addon was built with libjpeg-turbo), and its name.
bool HaveNativeJpeg();
std::string JpegBackend();

// Makes every item; results in the items' order. Blocks until all are done.
std::vector<ItemResult> RenderBatch(const std::vector<BatchItem>& items, const BatchOptions& options);

}  // namespace finetorch
