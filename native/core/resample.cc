#include "core/resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

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
  for (int i = from; i < to; ++i) {
    const double center = offset + (i + 0.5) * scale;
    int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    int hi = std::min(static_cast<int>(center + support + 0.5), in);
    std::vector<double> w(axis.taps, 0.0);
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

uint8_t ToByte(float v) {
  return static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, v + 0.5f)));
}

}  // namespace

void RenderPixels(const uint8_t* src, int width, int height, int channels, const PixelPlan& plan, uint8_t* out) {
  const Box& pre = plan.pre;
  const Box& post = plan.post;
  std::memset(out, 0, static_cast<size_t>(post.width) * post.height * 3);
  // The part of `post` inside the resized image; the rest stays zero.
  const int x0 = std::max(post.left, 0), x1 = std::min(post.left + post.width, plan.resizedWidth);
  const int y0 = std::max(post.top, 0), y1 = std::min(post.top + post.height, plan.resizedHeight);
  if (x1 <= x0 || y1 <= y0) return;
  const int columns = x1 - x0;
  const Window window =
      plan.window.value_or(Window{0, 0, static_cast<double>(pre.width), static_cast<double>(pre.height)});
  Axis horizontal = Coefficients(pre.width, window.left, window.width, plan.resizedWidth, x0, x1, plan.interpolation);
  Axis vertical = Coefficients(pre.height, window.top, window.height, plan.resizedHeight, y0, y1, plan.interpolation);

  // Pass 1: the rows the vertical filter reads, resampled horizontally, as floats.
  const int rowLo = vertical.first.front();
  int rowHi = rowLo;
  for (size_t i = 0; i < vertical.first.size(); ++i) rowHi = std::max(rowHi, vertical.first[i] + vertical.count[i]);
  std::vector<float> rows(static_cast<size_t>(rowHi - rowLo) * columns * 3);
  const int taps = horizontal.taps;
  for (int r = rowLo; r < rowHi; ++r) {
    const uint8_t* line = src + (static_cast<size_t>(pre.top + r) * width + pre.left) * channels;
    float* dst = &rows[static_cast<size_t>(r - rowLo) * columns * 3];
    for (int x = 0; x < columns; ++x) {
      const float* w = &horizontal.weights[static_cast<size_t>(x) * taps];
      const int first = horizontal.first[x];
      const int n = horizontal.count[x];
      float c0 = 0, c1 = 0, c2 = 0;
      if (channels == 3) {
        const uint8_t* p = line + first * 3;
        for (int k = 0; k < n; ++k, p += 3) {
          c0 += w[k] * p[0];
          c1 += w[k] * p[1];
          c2 += w[k] * p[2];
        }
      } else {
        const uint8_t* p = line + first;
        for (int k = 0; k < n; ++k) c0 += w[k] * p[k];
        c1 = c2 = c0;
      }
      // PIL stores this pass as bytes: rounded, and clipped where bicubic overshoots.
      dst[3 * x] = ToByte(c0);
      dst[3 * x + 1] = ToByte(c1);
      dst[3 * x + 2] = ToByte(c2);
    }
  }

  // Pass 2: vertical, then into place (mirrored if asked) as bytes.
  std::vector<float> acc(static_cast<size_t>(columns) * 3);
  for (int y = y0; y < y1; ++y) {
    const float* w = &vertical.weights[static_cast<size_t>(y - y0) * vertical.taps];
    const int first = vertical.first[y - y0];
    const int n = vertical.count[y - y0];
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (int k = 0; k < n; ++k) {
      const float* row = &rows[static_cast<size_t>(first + k - rowLo) * columns * 3];
      const float wk = w[k];
      for (size_t i = 0; i < acc.size(); ++i) acc[i] += wk * row[i];
    }
    uint8_t* line = out + static_cast<size_t>(y - post.top) * post.width * 3;
    for (int x = 0; x < columns; ++x) {
      int at = x0 + x - post.left;
      if (plan.flipped) at = post.width - 1 - at;
      line[3 * at] = ToByte(acc[3 * x]);
      line[3 * at + 1] = ToByte(acc[3 * x + 1]);
      line[3 * at + 2] = ToByte(acc[3 * x + 2]);
    }
  }
}

}  // namespace finetorch
