// Per-environment data of the addon: the constructors that native code instantiates itself.
#pragma once
#include <napi.h>

namespace finetorch {

struct AddonData {
  Napi::FunctionReference model;
  Napi::FunctionReference mae;
};

}  // namespace finetorch
