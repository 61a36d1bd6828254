#include "binding/images_wrap.h"

#include <array>

#include "binding/args.h"
#include "binding/worker.h"
#include "core/normalize.h"
#include "core/resample.h"

namespace finetorch {
namespace {

// A typed array of the expected kind and at least `count` elements, kept alive by `call`.
template <typename T>
T* Buffer(AsyncCall& call, const Options& o, const char* name, napi_typedarray_type type, size_t count) {
  Napi::Value v = o.value(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type ||
      v.As<Napi::TypedArray>().ElementLength() < count) {
    throw o.fail(name, "a typed array of the right kind holding " + std::to_string(count) + " elements");
  }
  Napi::TypedArray array = v.As<Napi::TypedArray>();
  call.keep(array);
  return reinterpret_cast<T*>(static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
}

std::array<float, 3> Triple(const Options& o, const char* name) {
  Napi::Array a = o.array(name);
  if (a.Length() != 3) throw o.fail(name, "3 numbers");
  return {a.Get(0u).As<Napi::Number>().FloatValue(), a.Get(1u).As<Napi::Number>().FloatValue(),
          a.Get(2u).As<Napi::Number>().FloatValue()};
}

Box ReadBox(const Options& parent, const char* name) {
  Options o(parent.value(name), name);
  return Box{static_cast<int>(o.integer("left")), static_cast<int>(o.integer("top")),
             static_cast<int>(o.integer("width")), static_cast<int>(o.integer("height"))};
}

}  // namespace

Napi::Value NormalizeImages(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "normalizeImages");
  int64_t n = o.integer("n"), h = o.integer("height"), w = o.integer("width");
  if (n < 0 || h < 0 || w < 0) throw o.fail("n", "non-negative sizes");
  std::array<float, 3> mean = Triple(o, "mean"), std = Triple(o, "std");
  const size_t count = static_cast<size_t>(n * h * w * 3);
  const uint8_t* src = Buffer<uint8_t>(call, o, "src", napi_uint8_array, count);
  float* dst = Buffer<float>(call, o, "dst", napi_float32_array, count);
  return call.run([=] { finetorch::NormalizeImages(src, n, h, w, mean, std, dst); },
                  [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

Napi::Value RenderPixels(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "renderPixels");
  int width = static_cast<int>(o.integer("width")), height = static_cast<int>(o.integer("height"));
  int channels = static_cast<int>(o.integer("channels"));
  Options p(o.value("plan"), "renderPixels plan");
  Options resized(p.value("resized"), "resized");
  PixelPlan plan{ReadBox(p, "pre"),
                 static_cast<int>(resized.integer("width")),
                 static_cast<int>(resized.integer("height")),
                 ReadBox(p, "post"),
                 p.boolean("flipped"),
                 p.choice<Interpolation>("interpolation", {{"nearest", Interpolation::kNearest},
                                                           {"bilinear", Interpolation::kBilinear},
                                                           {"bicubic", Interpolation::kBicubic}})};
  // lib/ plans inside the image; these bounds keep a broken plan from reading past the buffers.
  const Box& pre = plan.pre;
  bool fits = (channels == 1 || channels == 3) && width > 0 && height > 0 && pre.left >= 0 && pre.top >= 0 &&
              pre.width > 0 && pre.height > 0 && pre.left + pre.width <= width && pre.top + pre.height <= height &&
              plan.resizedWidth > 0 && plan.resizedHeight > 0 && plan.post.width > 0 && plan.post.height > 0;
  if (!fits) throw o.fail("plan", "a plan inside the source image");
  const uint8_t* src =
      Buffer<uint8_t>(call, o, "src", napi_uint8_array, static_cast<size_t>(width) * height * channels);
  uint8_t* dst =
      Buffer<uint8_t>(call, o, "dst", napi_uint8_array, static_cast<size_t>(plan.post.width) * plan.post.height * 3);
  return call.run([=] { finetorch::RenderPixels(src, width, height, channels, plan, dst); },
                  [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

}  // namespace finetorch
