#include "tensor.h"

#include <cstring>
#include <utility>

#include "errors.h"

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

const DtypeInfo& InfoOf(torch::Dtype dtype) {
  for (const auto& info : kDtypes) {
    if (info.dtype == dtype) return info;
  }
  throw UserError(std::string("unsupported dtype ") + c10::toString(dtype));
}

}  // namespace

torch::Dtype DtypeFromName(const std::string& name) {
  for (const auto& info : kDtypes) {
    if (name == info.name) return info.dtype;
  }
  throw UserError("unknown dtype '" + name + "'");
}

std::string DtypeName(torch::Dtype dtype) {
  return InfoOf(dtype).name;
}

std::string ShapeString(c10::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

torch::Tensor HostTensorRef::View() const {
  return torch::from_blob(data, shape, torch::TensorOptions().dtype(dtype));
}

HostTensorRef ReadHostTensor(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  auto fail = [&](const std::string& message) { throw Napi::TypeError::New(env, what + ": " + message); };
  if (!value.IsObject()) fail("expected a HostTensor { dtype, shape, data }");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Value dtypeValue = object.Get("dtype");
  if (!dtypeValue.IsString()) fail("dtype must be a string");
  torch::Dtype dtype;
  try {
    dtype = DtypeFromName(dtypeValue.As<Napi::String>());
  } catch (const UserError& e) {
    fail(e.what());
  }
  Napi::Value shapeValue = object.Get("shape");
  if (!shapeValue.IsArray()) fail("shape must be an array");
  Napi::Array shapeArray = shapeValue.As<Napi::Array>();
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (uint32_t i = 0; i < shapeArray.Length(); ++i) {
    Napi::Value d = shapeArray.Get(i);
    if (!d.IsNumber() || d.As<Napi::Number>().DoubleValue() < 0) fail("shape must hold non-negative integers");
    shape.push_back(d.As<Napi::Number>().Int64Value());
    count *= shape.back();
  }
  Napi::Value dataValue = object.Get("data");
  if (!dataValue.IsTypedArray()) fail("data must be a typed array");
  Napi::TypedArray array = dataValue.As<Napi::TypedArray>();
  if (array.TypedArrayType() != InfoOf(dtype).array)
    fail("data's typed array does not match dtype " + DtypeName(dtype));
  if (static_cast<int64_t>(array.ElementLength()) != count) {
    fail("shape " + ShapeString(shape) + " holds " + std::to_string(count) + " elements but data has " +
         std::to_string(array.ElementLength()));
  }
  void* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return HostTensorRef{object, dtype, std::move(shape), data};
}

Napi::Object ToHostTensor(Napi::Env env, const torch::Tensor& tensor) {
  torch::Tensor t = tensor.contiguous();
  const DtypeInfo& info = InfoOf(t.scalar_type());
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

torch::Device ParseDevice(const std::string& name) {
  torch::Device device(name);  // c10::Error names a malformed string
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      throw UserError("device '" + name + "' requested but CUDA is not available (this LibTorch has no CUDA " +
                      "support or no NVIDIA GPU is visible); use 'cpu'");
    }
    if (device.has_index() && device.index() >= static_cast<int64_t>(torch::cuda::device_count())) {
      throw UserError("device '" + name + "' requested but only " + std::to_string(torch::cuda::device_count()) +
                      " CUDA device(s) exist");
    }
  } else if (!device.is_cpu()) {
    throw UserError("unsupported device '" + name + "': use 'cpu' or 'cuda'");
  }
  return device;
}

}  // namespace finetorch
