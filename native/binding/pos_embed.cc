#include "binding/pos_embed.h"

#include <memory>

#include "binding/async_call.h"
#include "binding/host_tensor.h"
#include "binding/options.h"
#include "core/nn/pos_embed.h"

namespace finetorch {

Napi::Value InterpolatePosEmbed(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "interpolatePosEmbed");
  torch::Tensor posEmbed = ReadHostTensor(call, o.value("posEmbed"), "posEmbed");
  int64_t numExtraTokens = o.integer("numExtraTokens");
  int64_t gridSize = o.integer("gridSize");
  auto out = std::make_shared<torch::Tensor>();
  return call.run([posEmbed, numExtraTokens, gridSize,
                   out] { *out = finetorch::InterpolatePosEmbed(posEmbed, numExtraTokens, gridSize).contiguous(); },
                  [out](Napi::Env env) -> Napi::Value { return ToHostTensor(env, *out); });
}

}  // namespace finetorch
