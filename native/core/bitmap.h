// The formats torchvision's ImageFolder accepts that sharp cannot read: Netpbm (PBM/PGM/PPM, plain
// and raw) and BMP (1-32 bits, palettes, bitfields, RLE4/RLE8), decoded as PIL decodes them, so
// that PIL's convert("RGB") of the result is what the caller gets.
#pragma once
#include <cstddef>
#include <cstdint>

namespace finetorch {

class BitmapDecoder {
 public:
  // Whether the bytes start like a Netpbm or BMP file.
  static bool Recognizes(const uint8_t* data, size_t size);

  // Reads the header; throws Error(kImageDecode) when it is malformed, unsupported, or claims more
  // than maxPixels pixels (before anything is allocated). The bytes must outlive the decoder.
  BitmapDecoder(const uint8_t* data, size_t size, int64_t maxPixels);

  int width() const { return width_; }
  int height() const { return height_; }
  // 1 (gray and bilevel) or 3 (colour).
  int channels() const { return channels_; }

  // The whole image, height x width x channels bytes, top row first.
  void Decode(uint8_t* out) const;

 private:
  enum class Format { kNetpbm, kBmp };
  void ReadNetpbmHeader();
  void ReadBmpHeader();
  void DecodeNetpbm(uint8_t* out) const;
  void DecodeBmp(uint8_t* out) const;

  const uint8_t* data_;
  size_t size_;
  Format format_;
  int width_ = 0, height_ = 0, channels_ = 0;
  // Netpbm: the type digit (1-6) and maxval; BMP: the header's fields.
  int kind_ = 0, maxval_ = 0;
  int bits_ = 0;
  uint32_t compression_ = 0;
  bool topDown_ = false;
  size_t pixelsAt_ = 0, paletteAt_ = 0;
  int paletteEntries_ = 0, paletteStride_ = 0;
  uint32_t masks_[3] = {0, 0, 0};
};

}  // namespace finetorch
