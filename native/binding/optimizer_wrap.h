// The optimizer object JS holds: the native side of lib/optim's SGD, AdamW and LARS (their
// parameters and per-parameter state; the group hyper-parameters live in JS and arrive with every
// step).
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "binding/async_call.h"
#include "binding/external_memory.h"
#include "binding/net_handle.h"
#include "binding/options.h"
#include "core/optim/optimizer.h"

namespace finetorch {

struct OptimizerState {
  OptimizerKind kind;
  std::vector<std::vector<std::string>> names;  // parameter names per group
  std::shared_ptr<NetHandle> model;             // set by attach()
  std::unique_ptr<Optimizer> optimizer;         // built by attach(), under the model's lock

  Optimizer& checked();  // throws unless attached
};

class OptimizerWrap;

// The optimizer's part of one training step, read on the JS thread from the step's options
// ({ optimizer, groups }); the step itself runs on the pool under the model's lock.
struct OptimizerStep {
  OptimizerWrap* wrap;
  std::shared_ptr<OptimizerState> state;
  std::vector<GroupOptions> groups;

  Optimizer& optimizer() const { return state->checked(); }
  // The step's outcome for JS, reporting the optimizer's state memory to V8 with it (call on the pool).
  AsyncCall::Result report(AsyncCall::Result result) const;
};

class OptimizerWrap : public Napi::ObjectWrap<OptimizerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Optimizer({ kind: 'sgd' | 'adamw' | 'lars', groups: string[][] }): no model access;
  // attach(model) binds the tensors of a native model or masked autoencoder.
  explicit OptimizerWrap(const Napi::CallbackInfo& info);

  static OptimizerWrap* Unwrap(const Napi::Value& value);  // throws a TypeError if it is not one
  // The group hyper-parameters JS passes with each step, read as this optimizer's kind names them:
  // sgd { lr, momentum, dampening, weightDecay, nesterov }, adamw { lr, beta1, beta2, eps,
  // weightDecay }, lars { lr, momentum, weightDecay, trustCoefficient }.
  std::vector<GroupOptions> readGroupOptions(const Napi::Array& groups) const;
  // The optimizer and group hyper-parameters of a training step of `model`, kept alive by `call`.
  static OptimizerStep ReadStep(AsyncCall& call, const Options& o, const std::shared_ptr<NetHandle>& model);
  void setMemory(Napi::Env env, int64_t bytes) { memory_.set(env, bytes); }

 private:
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value State(const Napi::CallbackInfo& info);
  Napi::Value LoadState(const Napi::CallbackInfo& info);

  std::shared_ptr<OptimizerState> state_;
  ExternalMemory memory_;
};

}  // namespace finetorch
