// Every C++ exception that can leave LibTorch becomes a JS Error; nothing may reach the N-API
// boundary unconverted, or the Node process would terminate.
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace finetorch {

// A user mistake detected by finetorch itself (bad shape, label, key...).
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The message of the exception being handled: LibTorch's text without its C++ backtrace.
inline std::string CurrentExceptionMessage() {
  try {
    throw;
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown native error";
  }
}

// Runs f on the JS thread, turning any C++ exception into a thrown JS Error.
template <typename F>
auto Guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw Napi::Error::New(env, CurrentExceptionMessage());
  }
}

}  // namespace finetorch
