#include "binding/host_tensor.h"

#include <cstring>
#include <utility>
#include <vector>

#include "binding/options.h"

namespace finetorch {
namespace {

struct DtypeInfo {
  const char* name;
  torch::Dtype dtype;
  napi_typedarray_type array;
};

// float16 and bfloat16 travel as their raw 16-bit patterns in a Uint16Array.
const DtypeInfo kDtypes[] = {
    {"float32", torch::kFloat32, napi_float32_array}, {"float64", torch::kFloat64, napi_float64_array},
    {"float16", torch::kFloat16, napi_uint16_array},  {"bfloat16", torch::kBFloat16, napi_uint16_array},
    {"int64", torch::kInt64, napi_bigint64_array},    {"int32", torch::kInt32, napi_int32_array},
    {"int16", torch::kInt16, napi_int16_array},       {"int8", torch::kInt8, napi_int8_array},
    {"uint8", torch::kUInt8, napi_uint8_array},       {"bool", torch::kBool, napi_uint8_array},
};

const DtypeInfo* ByName(const std::string& name) {
  for (const auto& info : kDtypes) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

const DtypeInfo& ByDtype(torch::Dtype dtype) {
  for (const auto& info : kDtypes) {
    if (info.dtype == dtype) return info;
  }
  throw Error(ErrorCode::kBadInput, std::string("unsupported dtype ") + c10::toString(dtype));
}

std::vector<int64_t> ReadSizes(const Options& o, const char* name) {
  Napi::Array array = o.array(name);
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value v = array.Get(i);
    if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0) throw o.fail(name, "non-negative integers");
    out.push_back(v.As<Napi::Number>().Int64Value());
  }
  return out;
}

}  // namespace

torch::Tensor ReadHostTensor(AsyncCall& call, const Napi::Value& value, const std::string& what) {
  Options o(value, what);
  const DtypeInfo* info = ByName(o.string("dtype"));
  if (!info) throw o.fail("dtype", "a known dtype");
  std::vector<int64_t> shape = ReadSizes(o, "shape");
  Napi::Value data = o.value("data");
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != info->array) {
    throw o.fail("data", std::string("the typed array of dtype ") + info->name);
  }
  Napi::TypedArray array = data.As<Napi::TypedArray>();
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  if (static_cast<int64_t>(array.ElementLength()) != count) throw o.fail("data", "as long as the shape says");
  call.keep(array);
  void* bytes = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return torch::from_blob(bytes, shape, torch::TensorOptions().dtype(info->dtype));
}

Napi::Object ToHostTensor(Napi::Env env, const torch::Tensor& tensor) {
  torch::Tensor t = tensor.contiguous();
  const DtypeInfo& info = ByDtype(t.scalar_type());
  const size_t bytes = t.numel() * t.element_size();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buffer.Data(), t.data_ptr(), bytes);
  Napi::Array shape = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.size(i)));
  Napi::Object out = Napi::Object::New(env);
  out.Set("dtype", info.name);
  out.Set("shape", shape);
  napi_value data;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, info.array, t.numel(), buffer, 0, &data), Napi::Object());
  out.Set("data", Napi::Value(env, data));
  return out;
}

FileTensor ReadFileTensor(const Napi::Value& value, const std::string& what) {
  Options o(value, what);
  const DtypeInfo* info = ByName(o.string("dtype"));
  if (!info) throw o.fail("dtype", "a known dtype");
  FileTensor t{info->dtype, ReadSizes(o, "shape"), ReadSizes(o, "stride"), o.integer("position")};
  if (t.shape.size() != t.stride.size() || t.position < 0) throw o.fail("stride", "one per dimension");
  return t;
}

int64_t HostBytes(const std::vector<torch::Tensor>& tensors) {
  int64_t bytes = 0;
  for (const auto& t : tensors) {
    if (t.defined() && t.device().is_cpu()) bytes += t.numel() * t.element_size();
  }
  return bytes;
}

}  // namespace finetorch
