// The one exception type of the LibTorch core: a message for people and a code for programs. The
// binding turns it into a JS Error whose `code` is the matching ERR_FINETORCH_* of lib/base/errors.ts.
#pragma once
#include <stdexcept>
#include <string>

namespace finetorch {

enum class ErrorCode {
  kBadInput,       // a tensor or argument that does not fit (shape, dtype, label out of range)
  kNonfiniteLoss,  // a training step whose loss was NaN or infinite
  kBusy,           // another operation holds the object
  kDisposed,       // the object was disposed
  kStateDict,      // keys or shapes that do not fit the model
  kPth,            // a .pth file that cannot be read as located
  kImageDecode,    // an image that cannot be decoded
  kDevice,         // a device that does not exist, or a feature it cannot run
  kUnsupported,    // a feature this build lacks
  kOutOfMemory,    // an allocation failed
  kDist,           // a distributed peer missing, gone or disagreeing
  kNative,         // anything else from LibTorch
};

inline const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadInput:
      return "ERR_FINETORCH_BAD_INPUT";
    case ErrorCode::kNonfiniteLoss:
      return "ERR_FINETORCH_NONFINITE_LOSS";
    case ErrorCode::kBusy:
      return "ERR_FINETORCH_BUSY";
    case ErrorCode::kDisposed:
      return "ERR_FINETORCH_DISPOSED";
    case ErrorCode::kStateDict:
      return "ERR_FINETORCH_STATE_DICT";
    case ErrorCode::kPth:
      return "ERR_FINETORCH_PTH";
    case ErrorCode::kImageDecode:
      return "ERR_FINETORCH_IMAGE_DECODE";
    case ErrorCode::kDevice:
      return "ERR_FINETORCH_DEVICE";
    case ErrorCode::kUnsupported:
      return "ERR_FINETORCH_UNSUPPORTED";
    case ErrorCode::kOutOfMemory:
      return "ERR_FINETORCH_OUT_OF_MEMORY";
    case ErrorCode::kDist:
      return "ERR_FINETORCH_DIST";
    case ErrorCode::kNative:
      return "ERR_FINETORCH_NATIVE";
  }
  return "ERR_FINETORCH_NATIVE";
}

struct Error : std::runtime_error {
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code(code) {}
  ErrorCode code;
};

}  // namespace finetorch
