// Vision Transformer helpers that run outside a model: the position-embedding resampling a
// checkpoint of another image size needs before it loads.
#pragma once
#include <napi.h>

namespace finetorch {

// interpolatePosEmbed({ posEmbed: HostTensor, numExtraTokens, gridSize }) -> Promise<HostTensor>
Napi::Value InterpolatePosEmbed(const Napi::CallbackInfo& info);

}  // namespace finetorch
