#include "core/resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace finetorch {
namespace {

// For each output pixel of one axis: the first input pixel and the normalised weights of the
// `taps` input pixels from there (PIL's precompute_coeffs).
struct Axis {
  int taps = 0;
  std::vector<int> first;
  std::vector<int> count;      // taps that carry weight
  std::vector<float> weights;  // first.size() x taps
};

double Filter(Interpolation kind, double x) {
  x = std::fabs(x);
  if (kind == Interpolation::kBilinear) return x < 1 ? 1 - x : 0;
  // PIL's bicubic: a = -0.5
  const double a = -0.5;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

// Output pixels [from, to) of an axis that maps input pixels [offset, offset + span) of `in` onto
// `out` pixels.
Axis Coefficients(int in, double offset, double span, int out, int from, int to, Interpolation kind) {
  Axis axis;
  const double scale = span / out;
  if (kind == Interpolation::kNearest) {
    axis.taps = 1;
    for (int i = from; i < to; ++i) {
      axis.first.push_back(std::min(std::max(static_cast<int>(offset + (i + 0.5) * scale), 0), in - 1));
      axis.count.push_back(1);
      axis.weights.push_back(1.0f);
    }
    return axis;
  }
  const double filterScale = std::max(scale, 1.0);
  const double support = (kind == Interpolation::kBilinear ? 1.0 : 2.0) * filterScale;
  axis.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  std::vector<double> w(axis.taps);
  for (int i = from; i < to; ++i) {
    const double center = offset + (i + 0.5) * scale;
    int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    int hi = std::min(static_cast<int>(center + support + 0.5), in);
    std::fill(w.begin(), w.end(), 0.0);
    double total = 0;
    for (int x = lo; x < hi && x - lo < axis.taps; ++x) {
      w[x - lo] = Filter(kind, (x - center + 0.5) / filterScale);
      total += w[x - lo];
    }
    axis.first.push_back(lo);
    axis.count.push_back(std::min(hi - lo, axis.taps));
    for (double v : w) axis.weights.push_back(total != 0 ? static_cast<float>(v / total) : 0.0f);
  }
  return axis;
}

// A pixel as four floats (RGB and an unused lane): one vector operation per pixel and tap.
using Pixel = float __attribute__((vector_size(16)));
using PixelInt = int32_t __attribute__((vector_size(16)));

// Four bytes as a Pixel (SSE2's unpacks where there are SSE2, x86-64's baseline).
Pixel FourBytes(const uint8_t* p) {
#if defined(__SSE2__)
  int32_t word;
  std::memcpy(&word, p, 4);
  const __m128i zero = _mm_setzero_si128();
  return Pixel(_mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(word), zero), zero)));
#else
  return Pixel{static_cast<float>(p[0]), static_cast<float>(p[1]), static_cast<float>(p[2]), static_cast<float>(p[3])};
#endif
}

// Pixels [0, count) of a row as Pixels. An RGB pixel is read as four bytes (its unused lane gets the
// next pixel's red), except the row's last, whose fourth byte may lie past the image.
void LoadRow(const uint8_t* in, size_t count, int channels, Pixel* out) {
  if (channels == 1) {
    for (size_t i = 0; i < count; ++i) out[i] = Pixel{} + static_cast<float>(in[i]);
    return;
  }
  for (size_t i = 0; i + 1 < count; ++i) out[i] = FourBytes(in + 3 * i);
  const uint8_t* last = in + 3 * (count - 1);
  out[count - 1] = Pixel{static_cast<float>(last[0]), static_cast<float>(last[1]), static_cast<float>(last[2]), 0};
}

// PIL stores each pass as bytes: rounded, and clipped where bicubic overshoots.
Pixel Round(Pixel v) {
#if defined(__SSE2__)
  const __m128 clipped = _mm_min_ps(_mm_max_ps(__m128(v + 0.5f), _mm_setzero_ps()), _mm_set1_ps(255.0f));
  return Pixel(_mm_cvtepi32_ps(_mm_cvttps_epi32(clipped)));
#else
  v += 0.5f;
  v = v < 0.0f ? Pixel{} : v;
  v = v > 255.0f ? Pixel{255, 255, 255, 255} : v;
  return __builtin_convertvector(__builtin_convertvector(v, PixelInt), Pixel);
#endif
}

// Where the result goes: 8-bit RGB pixels (HWC), or normalised float planes (CHW).
struct BytesOut {
  uint8_t* out;
  int width, height;
  void Clear() const { std::memset(out, 0, static_cast<size_t>(width) * height * 3); }
  void Put(int row, int column, Pixel v) const {
    uint8_t* p = out + (static_cast<size_t>(row) * width + column) * 3;
    p[0] = static_cast<uint8_t>(v[0]), p[1] = static_cast<uint8_t>(v[1]), p[2] = static_cast<uint8_t>(v[2]);
  }
};

struct FloatsOut {
  float* out;
  int width, height;
  Normalization n;
  size_t plane() const { return static_cast<size_t>(width) * height; }
  // Padding is black pixels, normalised.
  void Clear() const {
    for (int c = 0; c < 3; ++c) std::fill(out + c * plane(), out + (c + 1) * plane(), n.shift[c]);
  }
  void Put(int row, int column, Pixel v) const {
    const size_t at = static_cast<size_t>(row) * width + column;
    for (int c = 0; c < 3; ++c) out[c * plane() + at] = v[c] * n.scale[c] + n.shift[c];
  }
};

template <typename Out>
void Render(const uint8_t* src, int width, int channels, const PixelPlan& plan, const Out& out) {
  const Box& pre = plan.pre;
  const Box& post = plan.post;
  // The part of `post` inside the resized image; the rest is black.
  const int x0 = std::max(post.left, 0), x1 = std::min(post.left + post.width, plan.resizedWidth);
  const int y0 = std::max(post.top, 0), y1 = std::min(post.top + post.height, plan.resizedHeight);
  if (x1 - x0 != post.width || y1 - y0 != post.height) out.Clear();
  if (x1 <= x0 || y1 <= y0) return;
  const int columns = x1 - x0;
  const Window window =
      plan.window.value_or(Window{0, 0, static_cast<double>(pre.width), static_cast<double>(pre.height)});
  Axis horizontal = Coefficients(pre.width, window.left, window.width, plan.resizedWidth, x0, x1, plan.interpolation);
  Axis vertical = Coefficients(pre.height, window.top, window.height, plan.resizedHeight, y0, y1, plan.interpolation);

  // Pass 1, horizontal, makes each source row the vertical filter reads when pass 2 first needs it,
  // into a ring of as many rows as that filter has taps, so that a row is still in cache when pass
  // 2 reads it. Each row's columns that the filter reads are made Pixels once, into `line`.
  const int columnLo = horizontal.first.front();
  int columnHi = columnLo;
  for (size_t i = 0; i < horizontal.first.size(); ++i) {
    columnHi = std::max(columnHi, horizontal.first[i] + horizontal.count[i]);
  }
  const size_t lineLength = static_cast<size_t>(columnHi - columnLo);
  // Uninitialised: every element is written before it is read.
  std::unique_ptr<Pixel[]> line(new Pixel[lineLength]);
  std::unique_ptr<Pixel[]> ring(new Pixel[static_cast<size_t>(vertical.taps) * columns]);
  auto ringRow = [&](int r) { return &ring[static_cast<size_t>(r % vertical.taps) * columns]; };
  // The horizontal weights, each in all four lanes: one multiply per tap.
  std::vector<Pixel> weights(horizontal.weights.size());
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = Pixel{} + horizontal.weights[i];
  auto makeRow = [&](int r) {
    const uint8_t* in = src + (static_cast<size_t>(pre.top + r) * width + pre.left + columnLo) * channels;
    LoadRow(in, lineLength, channels, line.get());
    Pixel* dst = ringRow(r);
    for (int x = 0; x < columns; ++x) {
      const Pixel* w = &weights[static_cast<size_t>(x) * horizontal.taps];
      const Pixel* p = &line[horizontal.first[x] - columnLo];
      Pixel sum{};
      for (int k = 0; k < horizontal.count[x]; ++k) sum += w[k] * p[k];
      dst[x] = Round(sum);
    }
  };

  // Pass 2: vertical (the filter's first row never moves up), then into place (mirrored if asked).
  std::vector<Pixel> sum(static_cast<size_t>(columns));
  int made = 0;  // rows below this one are in the ring
  for (int y = y0; y < y1; ++y) {
    const float* w = &vertical.weights[static_cast<size_t>(y - y0) * vertical.taps];
    const int first = vertical.first[y - y0];
    const int count = vertical.count[y - y0];
    for (made = std::max(made, first); made < first + count; ++made) makeRow(made);
    std::fill(sum.begin(), sum.end(), Pixel{});
    for (int k = 0; k < count; ++k) {
      const Pixel* row = ringRow(first + k);
      const float wk = w[k];
      for (int x = 0; x < columns; ++x) sum[x] += wk * row[x];
    }
    for (int x = 0; x < columns; ++x) {
      const int at = x0 + x - post.left;
      out.Put(y - post.top, plan.flipped ? post.width - 1 - at : at, Round(sum[x]));
    }
  }
}

}  // namespace

void RenderPixels(const uint8_t* src, int width, int height, int channels, const PixelPlan& plan, uint8_t* out) {
  Render(src, width, channels, plan, BytesOut{out, plan.post.width, plan.post.height});
}

void RenderPixels(const uint8_t* src, int width, int height, int channels, const PixelPlan& plan,
                  const Normalization& normalization, float* out) {
  Render(src, width, channels, plan, FloatsOut{out, plan.post.width, plan.post.height, normalization});
}

}  // namespace finetorch
