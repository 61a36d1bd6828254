#include "binding/sgd_wrap.h"

#include <optional>
#include <unordered_map>
#include <utility>

#include "binding/host_tensor.h"
#include "binding/options.h"

namespace finetorch {

Sgd& SgdState::checked() {
  if (!sgd) throw Error(ErrorCode::kBadInput, "SGD: the optimizer is not attached to a model");
  return *sgd;
}

Napi::Function SgdWrap::Define(Napi::Env env) {
  return DefineClass(env, "SGD",
                     {
                         InstanceMethod<&SgdWrap::Attach>("attach"),
                         InstanceMethod<&SgdWrap::MomentumBuffers>("momentumBuffers"),
                         InstanceMethod<&SgdWrap::LoadMomentumBuffers>("loadMomentumBuffers"),
                     });
}

SgdWrap* SgdWrap::Unwrap(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw Napi::TypeError::New(env, "expected a native SGD optimizer");
  auto* sgd = Napi::ObjectWrap<SgdWrap>::Unwrap(value.As<Napi::Object>());
  if (!sgd) throw Napi::TypeError::New(env, "expected a native SGD optimizer");
  return sgd;
}

SgdWrap::SgdWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SgdWrap>(info) {
  Options o(info[0], "SGD");
  state_ = std::make_shared<SgdState>();
  Napi::Array groups = o.array("groups");
  for (uint32_t g = 0; g < groups.Length(); ++g) {
    Napi::Array names = groups.Get(g).As<Napi::Array>();
    state_->names.emplace_back();
    for (uint32_t i = 0; i < names.Length(); ++i) state_->names.back().push_back(names.Get(i).As<Napi::String>());
  }
}

std::vector<SgdOptions> SgdWrap::ReadGroupOptions(const Napi::Array& groups) {
  std::vector<SgdOptions> options;
  for (uint32_t g = 0; g < groups.Length(); ++g) {
    Options o(groups.Get(g), "SGD group " + std::to_string(g));
    options.push_back(SgdOptions{o.number("lr"), o.number("momentum"), o.number("dampening"), o.number("weightDecay"),
                                 o.boolean("nesterov")});
  }
  return options;
}

std::shared_ptr<SgdState> SgdWrap::attachedTo(const std::shared_ptr<ModelHandle>& model) const {
  if (state_->model != model) throw Napi::Error::New(Env(), "this optimizer belongs to another model");
  return state_;
}

// attach(model) -> Promise<void>: looks the parameters up by name, as torch.optim.SGD holds
// the tensors it was given (a later resetClassifier does not change what it steps).
Napi::Value SgdWrap::Attach(const Napi::CallbackInfo& info) {
  ModelWrap* model = ModelWrap::Unwrap(info[0]);
  if (state_->model) throw Napi::Error::New(info.Env(), "SGD: already attached");
  state_->model = model->handle();
  auto state = state_;
  AsyncCall call(info.Env());
  call.keep(Value());
  return model->Run(call, [state](Model& m) {
    std::unordered_map<std::string, torch::Tensor> byName;
    for (const auto& item : m.net()->named_parameters()) byName.emplace(item.key(), item.value());
    std::vector<std::vector<torch::Tensor>> tensors;
    for (const auto& group : state->names) {
      tensors.emplace_back();
      for (const auto& name : group) {
        auto found = byName.find(name);
        if (found == byName.end()) throw Error(ErrorCode::kBadInput, "SGD: the model has no parameter '" + name + "'");
        tensors.back().push_back(found->second);
      }
    }
    state->sgd = std::make_unique<Sgd>(std::move(tensors));
    return [](Napi::Env env) -> Napi::Value { return env.Undefined(); };
  });
}

// momentumBuffers() -> Promise<(HostTensor | null)[]>, one per parameter in group order.
Napi::Value SgdWrap::MomentumBuffers(const Napi::CallbackInfo& info) {
  auto state = state_;
  auto copies = std::make_shared<std::vector<torch::Tensor>>();
  AsyncCall call(info.Env());
  call.keep(Value());
  return call.run(
      [state, copies] {
        if (!state->model) throw Error(ErrorCode::kBadInput, "SGD: the optimizer is not attached to a model");
        WithModel(*state->model, [&](Model&) {
          for (const auto& buffer : state->checked().momentumBuffers()) {
            copies->push_back(buffer.defined() ? buffer.detach().to(torch::kCPU).contiguous() : torch::Tensor());
          }
        });
      },
      [copies](Napi::Env env) -> Napi::Value {
        Napi::Array out = Napi::Array::New(env, copies->size());
        for (size_t i = 0; i < copies->size(); ++i) {
          const auto& t = (*copies)[i];
          out.Set(static_cast<uint32_t>(i), t.defined() ? Napi::Value(ToHostTensor(env, t)) : env.Null());
        }
        return out;
      });
}

// loadMomentumBuffers({ buffers: (HostTensor | null)[] }) -> Promise<void>; all checked before any is set.
Napi::Value SgdWrap::LoadMomentumBuffers(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  call.keep(Value());
  Napi::Array array = Options(info[0], "loadMomentumBuffers").array("buffers");
  std::vector<std::optional<torch::Tensor>> given;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value v = array.Get(i);
    if (v.IsNull()) {
      given.emplace_back();
    } else {
      given.emplace_back(ReadHostTensor(call, v, "momentum buffer " + std::to_string(i)));
    }
  }
  auto state = state_;
  auto bytes = std::make_shared<int64_t>(0);
  return call.run(
      [state, given, bytes] {
        if (!state->model) throw Error(ErrorCode::kBadInput, "SGD: the optimizer is not attached to a model");
        WithModel(*state->model, [&](Model&) {
          Sgd& sgd = state->checked();
          auto params = sgd.flatParams();
          if (given.size() != params.size()) {
            throw Error(ErrorCode::kStateDict, "optimizer state holds " + std::to_string(given.size()) +
                                                   " momentum buffers but the optimizer has " +
                                                   std::to_string(params.size()) + " parameters");
          }
          std::vector<torch::Tensor> loaded(params.size());
          for (size_t i = 0; i < params.size(); ++i) {
            if (!given[i]) continue;
            const torch::Tensor& t = *given[i];
            if (t.sizes() != params[i].sizes()) {
              throw Error(ErrorCode::kStateDict, "momentum buffer " + std::to_string(i) + " has shape " +
                                                     c10::str(t.sizes()) + " but its parameter has " +
                                                     c10::str(params[i].sizes()));
            }
            loaded[i] = t.to(params[i].device(), params[i].scalar_type(), /*non_blocking=*/false, /*copy=*/true);
          }
          sgd.momentumBuffers() = std::move(loaded);
          *bytes = HostBytes(sgd.momentumBuffers());
        });
      },
      [this, bytes](Napi::Env env) -> Napi::Value {
        memory_.set(env, *bytes);
        return env.Undefined();
      });
}

}  // namespace finetorch
