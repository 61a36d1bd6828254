#include "core/bitmap.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"

// Each rule below is PIL 9.4's (PpmImagePlugin.py, BmpImagePlugin.py, Unpack.c, Convert.c), so a
// file decodes here as torchvision's loader decodes it, and is refused where PIL refuses it.
namespace finetorch {
namespace {

[[noreturn]] void Fail(const std::string& message) {
  throw Error(ErrorCode::kImageDecode, message);
}

bool IsSpace(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

uint32_t U16(const uint8_t* p) {
  return p[0] | (p[1] << 8);
}
uint32_t U32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// Python's round(value / maxval * top): halves to even (nearbyint's default mode).
int Rescale(long value, int maxval, int top) {
  return static_cast<int>(std::nearbyint(static_cast<double>(value) / maxval * top));
}

// Netpbm header and plain-format tokens: whitespace-separated, '#' comments to the end of the line.
class Tokens {
 public:
  Tokens(const uint8_t* data, size_t size, size_t at) : data_(data), size_(size), at_(at) {}

  // The next token (PIL allows 10 characters but in plain PBM pixels); the header's last one is
  // followed by exactly one whitespace byte, which this consumes.
  std::string Next(const char* what, size_t maxLength = 10) {
    std::string token;
    while (at_ < size_) {
      const uint8_t c = data_[at_++];
      if (c == '#') {
        while (at_ < size_ && data_[at_] != '\r' && data_[at_] != '\n') ++at_;
        if (at_ < size_) ++at_;
      } else if (IsSpace(c)) {
        if (!token.empty()) break;
      } else {
        token += static_cast<char>(c);
        if (token.size() > maxLength) Fail(std::string("Netpbm token too long in the ") + what);
      }
    }
    if (token.empty()) Fail(std::string("Netpbm file ends in the ") + what);
    return token;
  }

  long Number(const char* what) {
    const std::string token = Next(what);
    if (token.find_first_not_of("0123456789") != std::string::npos)
      Fail("Netpbm " + std::string(what) + " is not a number: " + token);
    return std::stol(token);
  }

  size_t position() const { return at_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_;
};

}  // namespace

bool BitmapDecoder::Recognizes(const uint8_t* data, size_t size) {
  if (size >= 2 && data[0] == 'B' && data[1] == 'M') return true;
  return size >= 3 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6' && IsSpace(data[2]);
}

BitmapDecoder::BitmapDecoder(const uint8_t* data, size_t size, int64_t maxPixels) : data_(data), size_(size) {
  if (!Recognizes(data, size)) Fail("not a Netpbm or BMP file");
  format_ = data[0] == 'B' ? Format::kBmp : Format::kNetpbm;
  if (format_ == Format::kBmp) {
    ReadBmpHeader();
  } else {
    ReadNetpbmHeader();
  }
  if (width_ <= 0 || height_ <= 0) Fail("the header gives no image size");
  if (static_cast<int64_t>(width_) * height_ > maxPixels) {
    Fail(std::to_string(width_) + "x" + std::to_string(height_) + " exceeds the limit of " + std::to_string(maxPixels) +
         " pixels");
  }
}

void BitmapDecoder::Decode(uint8_t* out) const {
  if (format_ == Format::kBmp) {
    DecodeBmp(out);
  } else {
    DecodeNetpbm(out);
  }
}

void BitmapDecoder::ReadNetpbmHeader() {
  kind_ = data_[1] - '0';
  Tokens tokens(data_, size_, 3);
  const long width = tokens.Number("width");
  const long height = tokens.Number("height");
  if (width > 1 << 30 || height > 1 << 30) Fail("Netpbm size too large");
  width_ = static_cast<int>(width);
  height_ = static_cast<int>(height);
  if (kind_ != 1 && kind_ != 4) {
    const long maxval = tokens.Number("maxval");
    if (maxval < 1 || maxval > 65535) Fail("Netpbm maxval must be in 1..65535");
    maxval_ = static_cast<int>(maxval);
  }
  channels_ = kind_ == 3 || kind_ == 6 ? 3 : 1;
  pixelsAt_ = tokens.position();
}

void BitmapDecoder::DecodeNetpbm(uint8_t* out) const {
  const size_t count = static_cast<size_t>(width_) * height_ * channels_;
  // Gray with maxval > 255 is PIL's 32-bit mode "I" (values scaled to 65535), which convert("RGB")
  // clips to 255.
  const int top = channels_ == 1 && maxval_ > 255 ? 65535 : 255;
  const uint8_t* p = data_ + pixelsAt_;
  const size_t available = size_ - pixelsAt_;
  if (kind_ == 4) {
    const size_t stride = (static_cast<size_t>(width_) + 7) / 8;
    if (available < stride * height_) Fail("truncated Netpbm data");
    for (int y = 0; y < height_; ++y) {
      for (int x = 0; x < width_; ++x) {
        out[static_cast<size_t>(y) * width_ + x] = (p[y * stride + x / 8] >> (7 - x % 8)) & 1 ? 0 : 255;
      }
    }
  } else if (kind_ == 5 || kind_ == 6) {
    const int bytes = maxval_ > 255 ? 2 : 1;
    if (available < count * bytes) Fail("truncated Netpbm data");
    for (size_t i = 0; i < count; ++i) {
      const int value = bytes == 1 ? p[i] : (p[2 * i] << 8) | p[2 * i + 1];
      int v;
      if (maxval_ == 255) {
        v = value;
      } else if (kind_ == 5 && maxval_ == 65535) {
        v = value;  // read raw as 16-bit "I"
      } else {
        v = std::min(top, Rescale(value, maxval_, top));
      }
      out[i] = static_cast<uint8_t>(std::min(v, 255));
    }
  } else {
    Tokens tokens(data_, size_, pixelsAt_);
    for (size_t i = 0; i < count;) {
      if (kind_ == 1) {
        // Plain PBM: every '0' or '1' is a pixel, whitespace between them optional.
        for (char c : tokens.Next("pixels", count)) {
          if (c != '0' && c != '1') Fail("plain PBM pixels must be 0 or 1");
          if (i < count) out[i++] = c == '1' ? 0 : 255;
        }
        continue;
      }
      const long value = tokens.Number("pixels");
      if (value > maxval_) Fail("Netpbm value " + std::to_string(value) + " above maxval");
      out[i++] = static_cast<uint8_t>(std::min(Rescale(value, maxval_, top), 255));
    }
  }
}

void BitmapDecoder::ReadBmpHeader() {
  if (size_ < 18) Fail("truncated BMP header");
  const size_t headerSize = U32(data_ + 14);
  if (headerSize < 12 || size_ < 14 + headerSize) Fail("truncated BMP header");
  const uint8_t* h = data_ + 18;  // the header after its size field
  size_t offset = U32(data_ + 10);
  size_t after = 14 + headerSize;
  int colors = 0;
  if (headerSize == 12) {
    width_ = static_cast<int>(U16(h));
    height_ = static_cast<int>(U16(h + 2));
    bits_ = static_cast<int>(U16(h + 6));
    paletteStride_ = 3;
  } else if (headerSize == 40 || headerSize == 64 || headerSize == 108 || headerSize == 124) {
    topDown_ = h[7] == 0xFF;
    const uint32_t width = U32(h);
    const uint32_t height = topDown_ ? 0u - U32(h + 4) : U32(h + 4);
    if (width > 1u << 30 || height > 1u << 30) Fail("BMP size too large");
    width_ = static_cast<int>(width);
    height_ = static_cast<int>(height);
    bits_ = static_cast<int>(U16(h + 10));
    compression_ = U32(h + 12);
    colors = static_cast<int>(std::min<uint32_t>(U32(h + 28), 1u << 30));
    paletteStride_ = 4;
    if (compression_ == 3) {
      const uint8_t* m = h + 36;
      if (headerSize == 40) {
        // A 40-byte header's masks follow it in the file.
        if (size_ < after + 12) Fail("truncated BMP bitfields");
        m = data_ + after;
        after += 12;
      }
      masks_[0] = U32(m);
      masks_[1] = U32(m + 4);
      masks_[2] = U32(m + 8);
      const uint32_t alpha = headerSize == 40 ? 0 : U32(m + 12);
      const auto is = [&](uint32_t r, uint32_t g, uint32_t b) {
        return masks_[0] == r && masks_[1] == g && masks_[2] == b;
      };
      bool known = false;
      if (bits_ == 32) {
        known = (is(0xFF0000, 0xFF00, 0xFF) && (alpha == 0 || alpha == 0xFF000000)) ||
                (is(0xFF000000, 0xFF0000, 0xFF00) && (alpha == 0 || alpha == 0xFF)) ||
                (is(0xFF, 0xFF00, 0xFF0000) && alpha == 0xFF000000) || (is(0, 0, 0) && alpha == 0);
        if (is(0, 0, 0)) masks_[0] = 0xFF0000, masks_[1] = 0xFF00, masks_[2] = 0xFF;  // PIL reads it as BGRA
      } else if (bits_ == 24) {
        known = is(0xFF0000, 0xFF00, 0xFF);
      } else if (bits_ == 16) {
        known = is(0xF800, 0x7E0, 0x1F) || is(0x7C00, 0x3E0, 0x1F);
      }
      if (!known) Fail("unsupported BMP bitfields layout");
    }
  } else {
    Fail("unsupported BMP header type (" + std::to_string(headerSize) + ")");
  }
  if (colors == 0) colors = bits_ < 31 ? 1 << bits_ : 0;
  if (offset == 14 + headerSize && bits_ <= 8) offset += 4 * static_cast<size_t>(colors);
  if (bits_ != 1 && bits_ != 4 && bits_ != 8 && bits_ != 16 && bits_ != 24 && bits_ != 32) {
    Fail("unsupported BMP pixel depth (" + std::to_string(bits_) + ")");
  }
  if (compression_ == 0 && bits_ == 16) masks_[0] = 0x7C00, masks_[1] = 0x3E0, masks_[2] = 0x1F;
  if (compression_ == 0 && bits_ >= 24) masks_[0] = 0xFF0000, masks_[1] = 0xFF00, masks_[2] = 0xFF;
  if ((compression_ == 1 && bits_ != 8) || (compression_ == 2 && bits_ != 4) || compression_ > 3) {
    Fail("unsupported BMP compression (" + std::to_string(compression_) + ")");
  }
  if (bits_ <= 8) {
    if (colors <= 0 || colors > 65536) Fail("unsupported BMP palette size (" + std::to_string(colors) + ")");
    paletteAt_ = after;
    // A short palette is read as far as it goes (PIL does not check).
    paletteEntries_ = static_cast<int>(std::min<size_t>(colors, after < size_ ? (size_ - after) / paletteStride_ : 0));
  }
  channels_ = 3;
  pixelsAt_ = offset;
}

void BitmapDecoder::DecodeBmp(uint8_t* out) const {
  const size_t width = static_cast<size_t>(width_);
  const size_t height = static_cast<size_t>(height_);
  if (pixelsAt_ > size_) Fail("truncated BMP data");
  const uint8_t* p = data_ + pixelsAt_;
  const size_t available = size_ - pixelsAt_;
  // Stored row r is image row `height - 1 - r` unless the file is top-down.
  const auto rowOut = [&](size_t r) { return out + (topDown_ ? r : height - 1 - r) * width * 3; };
  const auto paletteToRgb = [&](uint8_t* row, const uint8_t* indices) {
    for (size_t x = 0; x < width; ++x) {
      const int index = indices[x];
      if (index < paletteEntries_ && index < 256) {
        const uint8_t* bgr = data_ + paletteAt_ + static_cast<size_t>(index) * paletteStride_;
        row[3 * x] = bgr[2], row[3 * x + 1] = bgr[1], row[3 * x + 2] = bgr[0];
      } else {
        row[3 * x] = row[3 * x + 1] = row[3 * x + 2] = 0;
      }
    }
  };
  if (compression_ == 1 || compression_ == 2) {
    // PIL's BmpRleDecoder, step by step: indices in stored order, short data is an error.
    const bool rle4 = compression_ == 2;
    std::vector<uint8_t> indices;
    indices.reserve(width * height);
    size_t at = 0, x = 0;
    while (indices.size() < width * height && at + 2 <= available) {
      size_t n = p[at];
      const uint8_t byte = p[at + 1];
      at += 2;
      if (n) {
        if (x + n > width) n = width > x ? width - x : 0;
        for (size_t k = 0; k < n; ++k) indices.push_back(rle4 ? (k % 2 ? byte & 0x0F : byte >> 4) : byte);
        x += n;
      } else if (byte == 0) {
        while (indices.size() % width) indices.push_back(0);
        x = 0;
      } else if (byte == 1) {
        break;
      } else if (byte == 2) {
        if (at + 2 > available) break;
        indices.insert(indices.end(), p[at] + static_cast<size_t>(p[at + 1]) * width, 0);
        at += 2;
        x = indices.size() % width;
      } else {
        const size_t count = rle4 ? byte / 2 : byte;
        const size_t got = std::min(count, available - at);
        for (size_t k = 0; k < got; ++k) {
          if (rle4) {
            indices.push_back(p[at + k] >> 4);
            indices.push_back(p[at + k] & 0x0F);
          } else {
            indices.push_back(p[at + k]);
          }
        }
        at += got;
        if (got < count) break;
        x += byte;
        if ((pixelsAt_ + at) % 2) ++at;
      }
    }
    if (indices.size() < width * height) Fail("BMP RLE data ends before the image does");
    for (size_t r = 0; r < height; ++r) paletteToRgb(rowOut(r), &indices[r * width]);
    return;
  }
  const size_t stride = ((width * bits_ + 31) >> 3) & ~static_cast<size_t>(3);
  if (available / stride < height) Fail("truncated BMP data");
  std::vector<uint8_t> indices(bits_ <= 8 ? width : 0);
  for (size_t r = 0; r < height; ++r) {
    const uint8_t* in = p + r * stride;
    uint8_t* row = rowOut(r);
    if (bits_ <= 8) {
      const int perByte = 8 / bits_;
      for (size_t x = 0; x < width; ++x) {
        const int shift = 8 - bits_ * (1 + static_cast<int>(x % perByte));
        indices[x] = (in[x / perByte] >> shift) & ((1 << bits_) - 1);
      }
      paletteToRgb(row, indices.data());
      continue;
    }
    const size_t bytes = static_cast<size_t>(bits_) / 8;
    for (size_t x = 0; x < width; ++x) {
      uint32_t v = 0;
      for (size_t k = 0; k < bytes; ++k) v |= static_cast<uint32_t>(in[x * bytes + k]) << (8 * k);
      for (int c = 0; c < 3; ++c) {
        const uint32_t mask = masks_[c];
        int shift = 0;
        while (!((mask >> shift) & 1)) ++shift;
        const uint32_t top = mask >> shift;
        row[3 * x + c] = static_cast<uint8_t>(((v & mask) >> shift) * 255 / top);
      }
    }
  }
}

}  // namespace finetorch
