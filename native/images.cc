#include "images.h"

#include <torch/torch.h>

#include <array>

#include "errors.h"
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
    throw Napi::RangeError::New(env, "normalizeImages: src must be a Uint8Array and dst a Float32Array of at least n*h*w*3 elements");
  }
  uint8_t* in = static_cast<uint8_t*>(src.ArrayBuffer().Data()) + src.ByteOffset();
  float* out = reinterpret_cast<float*>(static_cast<uint8_t*>(dst.ArrayBuffer().Data()) + dst.ByteOffset());
  return PromiseWorker::Run(
      env,
      [=] {
        torch::Tensor pixels = torch::from_blob(in, {n, h, w, 3}, torch::kUInt8);
        torch::Tensor result = torch::from_blob(out, {n, 3, h, w}, torch::kFloat32);
        // (x / 255 - mean) / std  ==  x * scale + shift, one fused pass per element.
        torch::Tensor scale = torch::tensor({1 / (255 * std[0]), 1 / (255 * std[1]), 1 / (255 * std[2])}).view({1, 3, 1, 1});
        torch::Tensor shift = torch::tensor({-mean[0] / std[0], -mean[1] / std[1], -mean[2] / std[2]}).view({1, 3, 1, 1});
        result.copy_(pixels.permute({0, 3, 1, 2}));
        result.mul_(scale).add_(shift);
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); }, {src, dst});
}

}  // namespace finetorch
