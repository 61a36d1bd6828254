// Typed, named readers for the option objects lib/base/binding.ts sends. lib/ validates user input;
// a field missing or of the wrong type here is a broken contract with lib/, reported as a
// TypeError naming the call and the field.
#pragma once
#include <napi.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

namespace finetorch {

class Options {
 public:
  Options(const Napi::Value& value, std::string call);

  Napi::Env env() const { return object_.Env(); }
  Napi::Value value(const char* name) const { return object_.Get(name); }
  bool boolean(const char* name) const;
  double number(const char* name) const;
  int64_t integer(const char* name) const;
  std::optional<int64_t> optionalInteger(const char* name) const;
  std::string string(const char* name) const;
  Napi::Array array(const char* name) const;
  Napi::Object object(const char* name) const;

  // An enum passed by name.
  template <typename E>
  E choice(const char* name, std::initializer_list<std::pair<const char*, E>> values) const {
    std::string given = string(name);
    for (const auto& [key, value] : values) {
      if (given == key) return value;
    }
    throw fail(name, "a known name, got '" + given + "'");
  }

  Napi::TypeError fail(const char* name, const std::string& expected) const;

 private:
  Napi::Object object_;
  std::string call_;
};

}  // namespace finetorch
