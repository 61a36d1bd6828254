// The SGD object JS holds: the native side of lib/optim/sgd.ts's SGD (its parameters and momentum
// buffers; the group hyper-parameters live in JS and arrive with every step).
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "binding/external_memory.h"
#include "binding/model_wrap.h"
#include "core/optimizer.h"

namespace finetorch {

struct SgdState {
  std::vector<std::vector<std::string>> names;  // parameter names per group
  std::shared_ptr<ModelHandle> model;           // set by attach()
  std::unique_ptr<Sgd> sgd;                     // built by attach(), under the model's lock

  Sgd& checked();  // throws unless attached
};

class SgdWrap : public Napi::ObjectWrap<SgdWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new SGD({ groups: string[][] }): no model access; attach(model) binds the tensors.
  explicit SgdWrap(const Napi::CallbackInfo& info);

  static SgdWrap* Unwrap(const Napi::Value& value);  // throws a TypeError if it is not one
  // [{ lr, momentum, dampening, weightDecay, nesterov }] as JS passes them with each step.
  static std::vector<SgdOptions> ReadGroupOptions(const Napi::Array& groups);
  // The state, checked to belong to `model`.
  std::shared_ptr<SgdState> attachedTo(const std::shared_ptr<ModelHandle>& model) const;
  void setMemory(Napi::Env env, int64_t bytes) { memory_.set(env, bytes); }

 private:
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value MomentumBuffers(const Napi::CallbackInfo& info);
  Napi::Value LoadMomentumBuffers(const Napi::CallbackInfo& info);

  std::shared_ptr<SgdState> state_;
  ExternalMemory memory_;
};

}  // namespace finetorch
