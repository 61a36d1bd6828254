#include "binding/render_batch.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "binding/async_call.h"
#include "binding/options.h"
#include "core/batch.h"

namespace finetorch {
namespace {

// The memory of a typed array of `type` holding at least `count` elements, kept alive by `call`.
uint8_t* Memory(AsyncCall& call, const Options& o, const char* name, napi_typedarray_type type, size_t count) {
  Napi::Value v = o.value(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type ||
      v.As<Napi::TypedArray>().ElementLength() < count) {
    throw o.fail(name, "a typed array of the right kind holding " + std::to_string(count) + " elements");
  }
  Napi::TypedArray array = v.As<Napi::TypedArray>();
  call.keep(array);
  return static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

std::array<float, 3> Triple(const Options& o, const char* name) {
  Napi::Array a = o.array(name);
  if (a.Length() != 3) throw o.fail(name, "3 numbers");
  return {a.Get(0u).As<Napi::Number>().FloatValue(), a.Get(1u).As<Napi::Number>().FloatValue(),
          a.Get(2u).As<Napi::Number>().FloatValue()};
}

int Int(const Options& o, const char* name) {
  return static_cast<int>(o.integer(name));
}

Box ReadBox(const Options& parent, const char* name) {
  Options o(parent.value(name), name);
  return Box{Int(o, "left"), Int(o, "top"), Int(o, "width"), Int(o, "height")};
}

PixelPlan ReadView(const Options& item) {
  Options view(item.value("view"), "renderBatch view");
  Options resized(view.value("resized"), "resized");
  PixelPlan plan{};
  plan.pre = ReadBox(view, "pre");
  plan.resizedWidth = Int(resized, "width");
  plan.resizedHeight = Int(resized, "height");
  plan.post = ReadBox(view, "post");
  plan.flipped = view.boolean("flipped");
  plan.interpolation = view.choice<Interpolation>("interpolation", {{"nearest", Interpolation::kNearest},
                                                                    {"bilinear", Interpolation::kBilinear},
                                                                    {"bicubic", Interpolation::kBicubic}});
  return plan;
}

// One item; lib/ plans views inside their images, and the core checks them again against what it
// decodes: these checks keep a broken contract from reading or writing past a buffer.
BatchItem ReadItem(AsyncCall& call, const Options& item, float* out, size_t outCount) {
  BatchItem b;
  b.plan = ReadView(item);
  if (b.plan.post.width <= 0 || b.plan.post.height <= 0) throw item.fail("view", "a view with a non-empty output");
  const size_t values = static_cast<size_t>(b.plan.post.width) * b.plan.post.height * 3;
  if (item.value("file").IsString()) {
    b.file = item.string("file");
    b.scale = Int(item, "scale");
    if (!item.value("checkedBytes").IsUndefined()) b.checkedBytes = item.integer("checkedBytes");
  } else {
    b.width = Int(item, "width");
    b.height = Int(item, "height");
    b.channels = Int(item, "channels");
    if (b.width <= 0 || b.height <= 0 || (b.channels != 1 && b.channels != 3)) {
      throw item.fail("pixels", "pixels of a positive size and 1 or 3 channels");
    }
    b.pixels = Memory(call, item, "pixels", napi_uint8_array, static_cast<size_t>(b.width) * b.height * b.channels);
  }
  if (!item.value("bytes").IsUndefined()) {
    b.bytes = Memory(call, item, "bytes", napi_uint8_array, values);
  } else {
    const int64_t offset = item.integer("offset");
    if (!out || offset < 0 || static_cast<size_t>(offset) + values > outCount)
      throw item.fail("offset", "a slot inside out");
    b.floats = out + offset;
  }
  return b;
}

}  // namespace

Napi::Value RenderBatch(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "renderBatch");
  BatchOptions options;
  options.mean = Triple(o, "mean");
  options.std = Triple(o, "std");
  for (float s : options.std) {
    if (!(s > 0)) throw o.fail("std", "positive numbers");
  }
  options.threads = Int(o, "threads");
  options.maxPixels = o.integer("maxPixels");
  options.memoryBudget = o.integer("memoryBudget");
  if (!o.value("waitedFor").IsUndefined()) {
    options.waitedFor = reinterpret_cast<const int32_t*>(Memory(call, o, "waitedFor", napi_int32_array, 1));
  }
  float* out = nullptr;
  size_t outCount = 0;
  if (!o.value("out").IsUndefined()) {
    Napi::TypedArray array = o.value("out").As<Napi::TypedArray>();
    out = reinterpret_cast<float*>(Memory(call, o, "out", napi_float32_array, 0));
    outCount = array.ElementLength();
  }
  Napi::Array list = o.array("items");
  auto items = std::make_shared<std::vector<BatchItem>>();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    items->push_back(ReadItem(call, Options(list.Get(i), "renderBatch item"), out, outCount));
  }
  auto results = std::make_shared<std::vector<ItemResult>>();
  return call.run([=] { *results = finetorch::RenderBatch(*items, options); },
                  [results](Napi::Env env) -> Napi::Value {
                    Napi::Array list = Napi::Array::New(env, results->size());
                    for (uint32_t i = 0; i < results->size(); ++i) {
                      const ItemResult& r = (*results)[i];
                      if (r.status == ItemStatus::kOk && r.checkedBytes < 0) {
                        list.Set(i, env.Null());
                        continue;
                      }
                      Napi::Object entry = Napi::Object::New(env);
                      if (r.status == ItemStatus::kOk) {
                        entry.Set("checkedBytes", static_cast<double>(r.checkedBytes));
                      } else {
                        entry.Set(r.status == ItemStatus::kUnsupported ? "unsupported" : "error", r.message);
                      }
                      list.Set(i, entry);
                    }
                    return list;
                  });
}

Napi::Object ImageBackends(Napi::Env env) {
  Napi::Object backends = Napi::Object::New(env);
  if (HaveNativeJpeg()) backends.Set("jpeg", JpegBackend());
  return backends;
}

}  // namespace finetorch
