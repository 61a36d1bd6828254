#include "binding/optimizer_wrap.h"

#include <unordered_map>
#include <utility>

#include "binding/addon_data.h"
#include "binding/host_tensor.h"
#include "binding/mae_wrap.h"
#include "binding/model_wrap.h"

namespace finetorch {
namespace {

const char* KindName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return "SGD";
    case OptimizerKind::kAdamW:
      return "AdamW";
    case OptimizerKind::kLars:
      return "LARS";
  }
  return "optimizer";
}

}  // namespace

Optimizer& OptimizerState::checked() {
  if (!optimizer)
    throw Error(ErrorCode::kBadInput, std::string(KindName(kind)) + ": the optimizer is not attached to a model");
  return *optimizer;
}

Napi::Function OptimizerWrap::Define(Napi::Env env) {
  return DefineClass(env, "Optimizer",
                     {
                         InstanceMethod<&OptimizerWrap::Attach>("attach"),
                         InstanceMethod<&OptimizerWrap::State>("state"),
                         InstanceMethod<&OptimizerWrap::LoadState>("loadState"),
                     });
}

OptimizerWrap* OptimizerWrap::Unwrap(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw Napi::TypeError::New(env, "expected a native optimizer");
  auto* optimizer = Napi::ObjectWrap<OptimizerWrap>::Unwrap(value.As<Napi::Object>());
  if (!optimizer) throw Napi::TypeError::New(env, "expected a native optimizer");
  return optimizer;
}

OptimizerWrap::OptimizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OptimizerWrap>(info) {
  Options o(info[0], "Optimizer");
  state_ = std::make_shared<OptimizerState>();
  state_->kind = o.choice<OptimizerKind>(
      "kind", {{"sgd", OptimizerKind::kSgd}, {"adamw", OptimizerKind::kAdamW}, {"lars", OptimizerKind::kLars}});
  Napi::Array groups = o.array("groups");
  for (uint32_t g = 0; g < groups.Length(); ++g) {
    Napi::Array names = groups.Get(g).As<Napi::Array>();
    state_->names.emplace_back();
    for (uint32_t i = 0; i < names.Length(); ++i) state_->names.back().push_back(names.Get(i).As<Napi::String>());
  }
}

std::vector<GroupOptions> OptimizerWrap::readGroupOptions(const Napi::Array& groups) const {
  std::vector<GroupOptions> options;
  for (uint32_t g = 0; g < groups.Length(); ++g) {
    Options o(groups.Get(g), std::string(KindName(state_->kind)) + " group " + std::to_string(g));
    GroupOptions group;
    group.lr = o.number("lr");
    group.weightDecay = o.number("weightDecay");
    switch (state_->kind) {
      case OptimizerKind::kSgd:
        group.momentum = o.number("momentum");
        group.dampening = o.number("dampening");
        group.nesterov = o.boolean("nesterov");
        break;
      case OptimizerKind::kAdamW:
        group.beta1 = o.number("beta1");
        group.beta2 = o.number("beta2");
        group.eps = o.number("eps");
        break;
      case OptimizerKind::kLars:
        group.momentum = o.number("momentum");
        group.trustCoefficient = o.number("trustCoefficient");
        break;
    }
    options.push_back(group);
  }
  return options;
}

AsyncCall::Result OptimizerStep::report(AsyncCall::Result result) const {
  int64_t bytes = HostBytes(optimizer().stateTensors());
  OptimizerWrap* optimizer = wrap;
  return [result, optimizer, bytes](Napi::Env env) {
    optimizer->setMemory(env, bytes);
    return result(env);
  };
}

OptimizerStep OptimizerWrap::ReadStep(AsyncCall& call, const Options& o, const std::shared_ptr<NetHandle>& model) {
  OptimizerWrap* optimizer = Unwrap(o.value("optimizer"));
  call.keep(optimizer->Value());
  std::vector<GroupOptions> groups = optimizer->readGroupOptions(o.array("groups"));
  if (optimizer->state_->model != model)
    throw Napi::Error::New(o.value("optimizer").Env(), "this optimizer belongs to another model");
  return OptimizerStep{optimizer, optimizer->state_, std::move(groups)};
}

// attach(model) -> Promise<void>: looks the parameters up by name, as torch.optim holds the
// tensors it was given (a later resetClassifier does not change what it steps).
Napi::Value OptimizerWrap::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<NetHandle> model;
  AddonData* addon = env.GetInstanceData<AddonData>();
  if (info[0].IsObject() && info[0].As<Napi::Object>().InstanceOf(addon->mae.Value())) {
    model = Napi::ObjectWrap<MaeWrap>::Unwrap(info[0].As<Napi::Object>())->handle();
  } else {
    model = ModelWrap::Unwrap(info[0])->handle();
  }
  if (state_->model) throw Napi::Error::New(env, std::string(KindName(state_->kind)) + ": already attached");
  state_->model = model;
  auto state = state_;
  AsyncCall call(env);
  call.keep(Value());
  call.keep(info[0].As<Napi::Object>());
  return call.run(
      [state, model] {
        WithNet(*model, [&](torch::nn::Module& net) {
          std::unordered_map<std::string, torch::Tensor> byName;
          for (const auto& item : net.named_parameters()) byName.emplace(item.key(), item.value());
          std::vector<std::vector<torch::Tensor>> tensors;
          for (const auto& group : state->names) {
            tensors.emplace_back();
            for (const auto& name : group) {
              auto found = byName.find(name);
              if (found == byName.end()) {
                throw Error(ErrorCode::kBadInput,
                            std::string(KindName(state->kind)) + ": the model has no parameter '" + name + "'");
              }
              tensors.back().push_back(found->second);
            }
          }
          state->optimizer = MakeOptimizer(state->kind, std::move(tensors));
        });
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

// state() -> Promise<(HostTensor[] | null)[]>: per parameter in group order, its state in slot
// order (core/optim/), or null where it has none yet.
Napi::Value OptimizerWrap::State(const Napi::CallbackInfo& info) {
  auto state = state_;
  auto copies = std::make_shared<std::vector<std::vector<torch::Tensor>>>();
  AsyncCall call(info.Env());
  call.keep(Value());
  return call.run(
      [state, copies] {
        if (!state->model) state->checked();
        WithNet(*state->model, [&](torch::nn::Module&) {
          for (const auto& entry : state->checked().state()) {
            copies->emplace_back();
            for (const auto& t : entry) copies->back().push_back(t.detach().to(torch::kCPU).contiguous());
          }
        });
      },
      [copies](Napi::Env env) -> Napi::Value {
        Napi::Array list = Napi::Array::New(env, copies->size());
        for (size_t i = 0; i < copies->size(); ++i) {
          const auto& entry = (*copies)[i];
          if (entry.empty()) {
            list.Set(static_cast<uint32_t>(i), env.Null());
            continue;
          }
          Napi::Array tensors = Napi::Array::New(env, entry.size());
          for (size_t k = 0; k < entry.size(); ++k) tensors.Set(static_cast<uint32_t>(k), ToHostTensor(env, entry[k]));
          list.Set(static_cast<uint32_t>(i), tensors);
        }
        return list;
      });
}

// loadState({ state: (HostTensor[] | null)[] }) -> Promise<void>, in state()'s layout; every entry
// is checked before any is set.
Napi::Value OptimizerWrap::LoadState(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  call.keep(Value());
  Napi::Array array = Options(info[0], "loadState").array("state");
  std::vector<std::vector<torch::Tensor>> given(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value entry = array.Get(i);
    if (entry.IsNull()) continue;
    Napi::Array tensors = entry.As<Napi::Array>();
    for (uint32_t k = 0; k < tensors.Length(); ++k) {
      given[i].push_back(ReadHostTensor(call, tensors.Get(k), "optimizer state " + std::to_string(i)));
    }
  }
  auto state = state_;
  auto bytes = std::make_shared<int64_t>(0);
  return call.run(
      [state, given, bytes] {
        if (!state->model) state->checked();
        WithNet(*state->model, [&](torch::nn::Module&) {
          Optimizer& optimizer = state->checked();
          optimizer.loadState(given);
          *bytes = HostBytes(optimizer.stateTensors());
        });
      },
      [this, bytes](Napi::Env env) -> Napi::Value {
        memory_.set(env, *bytes);
        return env.Undefined();
      });
}

}  // namespace finetorch
