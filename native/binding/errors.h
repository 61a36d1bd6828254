// Every C++ exception becomes a JS Error with a `code` (lib/base/errors.ts); nothing may reach the
// Node-API boundary unconverted, or the Node process would terminate.
#pragma once
#include <napi.h>

#include <string>
#include <utility>

#include "core/error.h"

namespace finetorch {

// The exception being handled as a code and a message (LibTorch's text without its backtrace).
std::pair<ErrorCode, std::string> CurrentError();

Napi::Error ToJsError(Napi::Env env, ErrorCode code, const std::string& message);

// Runs f on the JS thread, turning any C++ exception into a thrown JS Error with a code.
template <typename F>
auto Guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    auto [code, message] = CurrentError();
    throw ToJsError(env, code, message);
  }
}

}  // namespace finetorch
