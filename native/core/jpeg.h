// JPEG decoding with libjpeg-turbo through its libjpeg API: only the columns and rows of a box are
// decoded to pixels (jpeg_crop_scanline; the rows above, and when asked those below, are only
// entropy-decoded, by jpeg_skip_scanlines), optionally DCT-scaled by 1/2, 1/4 or 1/8. libjpeg's
// errors and its corrupt-data warnings become a finetorch::Error (kImageDecode); nothing reaches
// its default error_exit, which calls exit(). Compiled only where CMake found libjpeg-turbo with
// the cropping API (FINETORCH_HAVE_JPEG).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace finetorch {

struct JpegBox {
  int left, top, width, height;
};

struct JpegLimits {
  // Headers that claim more pixels are refused before anything is allocated.
  int64_t maxPixels;
  // libjpeg's large buffers (a progressive file's coefficients) may not exceed this.
  int64_t maxMemory;
};

// The libjpeg-turbo version compiled against, "libjpeg-turbo 2.1.5".
std::string JpegBackendName();

// One JPEG in memory (the bytes must outlive the decoder). The constructor reads the header and
// throws Error(kImageDecode) when it is not a JPEG or breaks the limits; a JPEG that libjpeg-turbo
// could decode but this decoder leaves to another (CMYK/YCCK, 12-bit, arithmetic coding, unusual
// component counts) says why in unsupported().
class JpegDecoder {
 public:
  JpegDecoder(const uint8_t* data, size_t size, const JpegLimits& limits);
  ~JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  // The stored size (EXIF orientation is not applied).
  int width() const;
  int height() const;
  // 1 (gray) or 3 (RGB) channels in the decoded pixels.
  int channels() const;
  // Empty when decode() can run; otherwise why this file goes to another decoder.
  const std::string& unsupported() const;
  // Bytes libjpeg will allocate for a decode at 1/scale beyond the output (an estimate that errs
  // high), so callers can budget the images decoding at once.
  int64_t workingBytes() const;

  // The size of the image decoded at 1/scale (libjpeg rounds up).
  static int ScaledSize(int size, int scale) { return (size + scale - 1) / scale; }

  // Where Decode put the box: box.height rows of `stride` pixels (libjpeg's cropped rows, which
  // start at an iMCU boundary left of the box), the box starting `left` pixels into each.
  struct Rows {
    int left, stride;
  };
  // The widest row Decode writes for a box `width` pixels wide.
  int MaxStride(int width) const;

  // Decodes `box` of the image scaled by 1/scale (scale 1, 2, 4 or 8; box in scaled pixels) into
  // `out`, at least box.height x MaxStride(box.width) x channels() bytes. With toEnd, the rows
  // below the box are entropy-decoded and the file read to its end, so damage there fails too;
  // without, decoding stops after the box. Once per decoder.
  Rows Decode(int scale, const JpegBox& box, bool toEnd, uint8_t* out);

  // libjpeg's structures (jpeg.cc).
  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace finetorch
