#include "binding/options.h"

#include <cmath>

namespace finetorch {

Options::Options(const Napi::Value& value, std::string call) : call_(std::move(call)) {
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), call_ + ": expected an options object");
  object_ = value.As<Napi::Object>();
}

Napi::TypeError Options::fail(const char* name, const std::string& expected) const {
  return Napi::TypeError::New(env(), call_ + ": option '" + name + "' must be " + expected);
}

bool Options::boolean(const char* name) const {
  Napi::Value v = value(name);
  if (!v.IsBoolean()) throw fail(name, "a boolean");
  return v.As<Napi::Boolean>();
}

double Options::number(const char* name) const {
  // One Node-API call rather than a type check and a read: batches read a few numbers per image.
  double v;
  if (napi_get_value_double(env(), value(name), &v) != napi_ok) throw fail(name, "a number");
  return v;
}

int64_t Options::integer(const char* name) const {
  double v = number(name);
  if (!(std::trunc(v) == v && std::fabs(v) <= 9007199254740991.0)) throw fail(name, "an integer");
  return static_cast<int64_t>(v);
}

std::optional<int64_t> Options::optionalInteger(const char* name) const {
  if (value(name).IsUndefined()) return std::nullopt;
  return integer(name);
}

std::string Options::string(const char* name) const {
  Napi::Value v = value(name);
  if (!v.IsString()) throw fail(name, "a string");
  return v.As<Napi::String>();
}

Napi::Array Options::array(const char* name) const {
  Napi::Value v = value(name);
  if (!v.IsArray()) throw fail(name, "an array");
  return v.As<Napi::Array>();
}

Napi::Object Options::object(const char* name) const {
  Napi::Value v = value(name);
  if (!v.IsObject()) throw fail(name, "an object");
  return v.As<Napi::Object>();
}

}  // namespace finetorch
