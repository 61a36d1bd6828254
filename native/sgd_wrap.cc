#include "sgd_wrap.h"

#include <optional>
#include <unordered_map>

#include "errors.h"
#include "tensor.h"
#include "worker.h"

namespace finetorch {

Napi::Function SgdWrap::Define(Napi::Env env) {
  return DefineClass(env, "SGD",
                     {
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
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsArray()) {
    throw Napi::TypeError::New(env, "SGD(model, groups: string[][])");
  }
  auto* model = Napi::ObjectWrap<ModelWrap>::Unwrap(info[0].As<Napi::Object>());
  if (!model) throw Napi::TypeError::New(env, "SGD: first argument must be a native model");
  model_ = model->state();
  Napi::Array groups = info[1].As<Napi::Array>();
  Guarded(env, [&] {
    std::lock_guard<std::mutex> lock(model_->mutex);
    std::unordered_map<std::string, torch::Tensor> byName;
    for (const auto& item : model_->checked()->named_parameters()) byName.emplace(item.key(), item.value());
    std::vector<std::vector<torch::Tensor>> tensors;
    for (uint32_t g = 0; g < groups.Length(); ++g) {
      Napi::Array names = groups.Get(g).As<Napi::Array>();
      tensors.emplace_back();
      for (uint32_t i = 0; i < names.Length(); ++i) {
        std::string name = names.Get(i).As<Napi::String>();
        auto found = byName.find(name);
        if (found == byName.end()) throw UserError("SGD: the model has no parameter '" + name + "'");
        tensors.back().push_back(found->second);
      }
    }
    sgd_ = std::make_shared<Sgd>(std::move(tensors));
  });
}

std::vector<SgdOptions> SgdWrap::readOptions(const Napi::Value& value) const {
  Napi::Env env = value.Env();
  if (!value.IsArray()) throw Napi::TypeError::New(env, "SGD: group options must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<SgdOptions> options;
  for (uint32_t g = 0; g < array.Length(); ++g) {
    Napi::Object o = array.Get(g).As<Napi::Object>();
    options.push_back(SgdOptions{
        o.Get("lr").As<Napi::Number>().DoubleValue(),
        o.Get("momentum").As<Napi::Number>().DoubleValue(),
        o.Get("dampening").As<Napi::Number>().DoubleValue(),
        o.Get("weightDecay").As<Napi::Number>().DoubleValue(),
        o.Get("nesterov").ToBoolean().Value(),
    });
  }
  if (options.size() != sgd_->groupCount()) {
    throw Napi::Error::New(env, "SGD: expected options for " + std::to_string(sgd_->groupCount()) + " groups, got " +
                                    std::to_string(options.size()));
  }
  return options;
}

void SgdWrap::updateMemory(Napi::Env env) {
  memory_.set(env, HostBytes(sgd_->momentumBuffers()));
}

// momentumBuffers() -> Promise<(HostTensor | null)[]>, one per parameter in group order.
Napi::Value SgdWrap::MomentumBuffers(const Napi::CallbackInfo& info) {
  auto model = model_;
  auto sgd = sgd_;
  auto copies = std::make_shared<std::vector<torch::Tensor>>();
  return PromiseWorker::Run(
      info.Env(),
      [model, sgd, copies] {
        std::lock_guard<std::mutex> lock(model->mutex);
        for (const auto& buffer : sgd->momentumBuffers()) {
          copies->push_back(buffer.defined() ? buffer.detach().to(torch::kCPU).contiguous() : torch::Tensor());
        }
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

// loadMomentumBuffers((HostTensor | null)[]) -> Promise<void>; all checked before any is set.
Napi::Value SgdWrap::LoadMomentumBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "loadMomentumBuffers(buffers[])");
  Napi::Array array = info[0].As<Napi::Array>();
  auto refs = std::make_shared<std::vector<std::optional<HostTensorRef>>>();
  std::vector<Napi::Object> keep{info.This().As<Napi::Object>()};  // `this` outlives the worker
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value v = array.Get(i);
    if (v.IsNull() || v.IsUndefined()) {
      refs->emplace_back();
    } else {
      refs->emplace_back(ReadHostTensor(v, "momentum buffer " + std::to_string(i)));
      keep.push_back(refs->back()->object);
    }
  }
  auto model = model_;
  auto sgd = sgd_;
  return PromiseWorker::Run(
      env,
      [model, sgd, refs] {
        std::lock_guard<std::mutex> lock(model->mutex);
        auto params = sgd->flatParams();
        if (refs->size() != params.size()) {
          throw UserError("optimizer state holds " + std::to_string(refs->size()) + " momentum buffers but the " +
                          "optimizer has " + std::to_string(params.size()) + " parameters");
        }
        std::vector<torch::Tensor> loaded(params.size());
        for (size_t i = 0; i < params.size(); ++i) {
          if (!(*refs)[i]) continue;
          torch::Tensor t = (*refs)[i]->View();
          if (t.sizes() != params[i].sizes()) {
            throw UserError("momentum buffer " + std::to_string(i) + " has shape " + ShapeString(t.sizes()) +
                            " but its parameter has " + ShapeString(params[i].sizes()));
          }
          loaded[i] = t.to(params[i].device(), params[i].scalar_type(), /*non_blocking=*/false, /*copy=*/true);
        }
        sgd->momentumBuffers() = std::move(loaded);
      },
      [this](Napi::Env env) -> Napi::Value {
        updateMemory(env);
        return env.Undefined();
      },
      keep);
}

}  // namespace finetorch
