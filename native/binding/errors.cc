#include "binding/errors.h"

#include <torch/torch.h>

#include <new>

namespace finetorch {

std::pair<ErrorCode, std::string> CurrentError() {
  try {
    throw;
  } catch (const Error& e) {
    return {e.code, e.what()};
  } catch (const c10::OutOfMemoryError& e) {
    return {ErrorCode::kOutOfMemory, e.what_without_backtrace()};
  } catch (const c10::Error& e) {
    return {ErrorCode::kNative, e.what_without_backtrace()};
  } catch (const std::bad_alloc&) {
    return {ErrorCode::kOutOfMemory, "out of memory"};
  } catch (const std::exception& e) {
    return {ErrorCode::kNative, e.what()};
  } catch (...) {
    return {ErrorCode::kNative, "unknown native error"};
  }
}

Napi::Error ToJsError(Napi::Env env, ErrorCode code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", ErrorCodeName(code));
  return error;
}

}  // namespace finetorch
