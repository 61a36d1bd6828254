#include "images.h"

#include <array>

#include "errors.h"
#include "resample.h"
#include "worker.h"

namespace finetorch {

Napi::Value NormalizeImages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 7 || !info[0].IsTypedArray() || !info[6].IsTypedArray()) {
    throw Napi::TypeError::New(env, "normalizeImages(src, n, h, w, mean, std, dst)");
  }
  auto src = info[0].As<Napi::TypedArray>();
  auto dst = info[6].As<Napi::TypedArray>();
  int64_t n = info[1].As<Napi::Number>().Int64Value();
  int64_t h = info[2].As<Napi::Number>().Int64Value();
  int64_t w = info[3].As<Napi::Number>().Int64Value();
  std::array<float, 3> mean, std;
  for (uint32_t c = 0; c < 3; ++c) {
    mean[c] = info[4].As<Napi::Array>().Get(c).As<Napi::Number>().FloatValue();
    std[c] = info[5].As<Napi::Array>().Get(c).As<Napi::Number>().FloatValue();
    if (!(std[c] > 0)) throw Napi::RangeError::New(env, "normalizeImages: std must be positive");
  }
  const size_t count = static_cast<size_t>(n * h * w * 3);
  if (n < 0 || h < 0 || w < 0 || src.TypedArrayType() != napi_uint8_array || src.ElementLength() < count ||
      dst.TypedArrayType() != napi_float32_array || dst.ElementLength() < count) {
    throw Napi::RangeError::New(
        env, "normalizeImages: src must be a Uint8Array and dst a Float32Array of at least n*h*w*3 elements");
  }
  uint8_t* in = static_cast<uint8_t*>(src.ArrayBuffer().Data()) + src.ByteOffset();
  float* out = reinterpret_cast<float*>(static_cast<uint8_t*>(dst.ArrayBuffer().Data()) + dst.ByteOffset());
  return PromiseWorker::Run(
      env,
      [=] {
        // (x / 255 - mean) / std  ==  x * scale + shift: one pass, HWC bytes to CHW floats.
        std::array<float, 3> scale, shift;
        for (int c = 0; c < 3; ++c) {
          scale[c] = 1 / (255 * std[c]);
          shift[c] = -mean[c] / std[c];
        }
        const int64_t plane = h * w;
        for (int64_t i = 0; i < n; ++i) {
          const uint8_t* image = in + i * plane * 3;
          float* channels = out + i * plane * 3;
          for (int c = 0; c < 3; ++c) {
            float* o = channels + c * plane;
            for (int64_t p = 0; p < plane; ++p) o[p] = image[3 * p + c] * scale[c] + shift[c];
          }
        }
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); }, {src, dst});
}

Napi::Value RenderPixels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsTypedArray() || !info[4].IsArray() || !info[5].IsTypedArray()) {
    throw Napi::TypeError::New(env, "renderPixels(src, width, height, channels, plan, dst)");
  }
  auto src = info[0].As<Napi::TypedArray>();
  auto dst = info[5].As<Napi::TypedArray>();
  int width = info[1].As<Napi::Number>().Int32Value();
  int height = info[2].As<Napi::Number>().Int32Value();
  int channels = info[3].As<Napi::Number>().Int32Value();
  Napi::Array values = info[4].As<Napi::Array>();
  if (values.Length() != 12) throw Napi::TypeError::New(env, "renderPixels: plan must hold 12 numbers");
  int v[12];
  for (uint32_t i = 0; i < 12; ++i) v[i] = values.Get(i).As<Napi::Number>().Int32Value();
  PixelPlan plan{{v[0], v[1], v[2], v[3]}, v[4],       v[5],
                 {v[6], v[7], v[8], v[9]}, v[10] != 0, static_cast<Interpolation>(v[11])};
  const Box& pre = plan.pre;
  bool ok = src.TypedArrayType() == napi_uint8_array && dst.TypedArrayType() == napi_uint8_array &&
            (channels == 1 || channels == 3) && width > 0 && height > 0 &&
            src.ElementLength() >= static_cast<size_t>(width) * height * channels && pre.left >= 0 && pre.top >= 0 &&
            pre.width > 0 && pre.height > 0 && pre.left + pre.width <= width && pre.top + pre.height <= height &&
            plan.resizedWidth > 0 && plan.resizedHeight > 0 && plan.post.width > 0 && plan.post.height > 0 &&
            dst.ElementLength() >= static_cast<size_t>(plan.post.width) * plan.post.height * 3 && v[11] >= 0 &&
            v[11] <= 2;
  if (!ok) throw Napi::RangeError::New(env, "renderPixels: the plan does not fit the source or the destination");
  const uint8_t* in = static_cast<uint8_t*>(src.ArrayBuffer().Data()) + src.ByteOffset();
  uint8_t* out = static_cast<uint8_t*>(dst.ArrayBuffer().Data()) + dst.ByteOffset();
  return PromiseWorker::Run(
      env, [=] { finetorch::RenderPixels(in, width, height, channels, plan, out); },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); }, {src, dst});
}

}  // namespace finetorch
