// Tells V8 how much native memory a JS object holds, so the GC sees the real pressure.
#pragma once
#include <napi.h>

namespace finetorch {

class ExternalMemory {
 public:
  // Reports `bytes` as the new total held, adjusting V8 by the difference.
  void set(Napi::Env env, int64_t bytes) {
    if (bytes != reported_) Napi::MemoryManagement::AdjustExternalMemory(env, bytes - reported_);
    reported_ = bytes;
  }

 private:
  int64_t reported_ = 0;
};

}  // namespace finetorch
