#include "binding/model_wrap.h"

#include <string>
#include <utility>
#include <vector>

#include "binding/addon_data.h"
#include "binding/host_tensor.h"
#include "binding/optimizer_wrap.h"
#include "binding/options.h"
#include "core/runtime.h"
#include "core/steps.h"

namespace finetorch {
namespace {

Napi::Array ToStringArray(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array array = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) array.Set(static_cast<uint32_t>(i), items[i]);
  return array;
}

Napi::Object ToShapeArray(Napi::Env env, c10::IntArrayRef sizes) {
  Napi::Array shape = Napi::Array::New(env, sizes.size());
  for (size_t d = 0; d < sizes.size(); ++d) shape.Set(static_cast<uint32_t>(d), static_cast<double>(sizes[d]));
  return shape;
}

AsyncCall::Result LoadResult(const LoadReport& report) {
  return [report](Napi::Env env) -> Napi::Value {
    Napi::Object out = Napi::Object::New(env);
    out.Set("missing", ToStringArray(env, report.missing));
    out.Set("unexpected", ToStringArray(env, report.unexpected));
    return out;
  };
}

AsyncCall::Result StepResultToJs(const StepResult& r) {
  return [r](Napi::Env env) -> Napi::Value {
    Napi::Object out = Napi::Object::New(env);
    out.Set("loss", r.loss);
    out.Set("correct", static_cast<double>(r.correct));
    if (r.logits.defined()) out.Set("logits", ToHostTensor(env, r.logits));
    return out;
  };
}

AsyncCall::Result TensorToJs(torch::Tensor t) {
  return [t](Napi::Env env) -> Napi::Value { return ToHostTensor(env, t); };
}

AsyncCall::Result Nothing() {
  return [](Napi::Env env) -> Napi::Value { return env.Undefined(); };
}

Batch ReadBatch(AsyncCall& call, const Options& o) {
  return Batch{ReadHostTensor(call, o.value("input"), "input"), ReadHostTensor(call, o.value("target"), "target"),
               o.boolean("headOnly")};
}

std::uint64_t AsSeed(int64_t seed) {
  return static_cast<std::uint64_t>(seed);
}

}  // namespace

Napi::Function ModelWrap::Define(Napi::Env env) {
  return DefineClass(env, "Model",
                     {
                         InstanceMethod<&ModelWrap::LoadStateDict>("loadStateDict"),
                         InstanceMethod<&ModelWrap::LoadStateDictFromFile>("loadStateDictFromFile"),
                         InstanceMethod<&ModelWrap::StateDict>("stateDict"),
                         InstanceMethod<&ModelWrap::Forward>("forward"),
                         InstanceMethod<&ModelWrap::Features>("features"),
                         InstanceMethod<&ModelWrap::TrainStep>("trainStep"),
                         InstanceMethod<&ModelWrap::EvalStep>("evalStep"),
                         InstanceMethod<&ModelWrap::To>("to"),
                         InstanceMethod<&ModelWrap::ResetClassifier>("resetClassifier"),
                         InstanceMethod<&ModelWrap::SetRequiresGrad>("setRequiresGrad"),
                         InstanceMethod<&ModelWrap::SetPrecision>("setPrecision"),
                         InstanceMethod<&ModelWrap::SetDropPathRate>("setDropPathRate"),
                         InstanceMethod<&ModelWrap::LossScale>("lossScale"),
                         InstanceMethod<&ModelWrap::Dispose>("dispose"),
                     });
}

ModelWrap* ModelWrap::Unwrap(const Napi::Value& value) {
  Napi::Env env = value.Env();
  auto* constructor = &env.GetInstanceData<AddonData>()->model;
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(constructor->Value())) {
    throw Napi::TypeError::New(env, "expected a native model");
  }
  return Napi::ObjectWrap<ModelWrap>::Unwrap(value.As<Napi::Object>());
}

// Reached only from Create, with the built handle in an External.
ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "use createModel(options) to make a model");
  }
  handle_ = *info[0].As<Napi::External<std::shared_ptr<ModelHandle>>>().Data();
}

ModelWrap::~ModelWrap() {
  memory_.set(Env(), 0);
}

namespace {

enum class Family { kResNet, kVit };

ResNetConfig ReadResNetConfig(const Options& o) {
  ResNetConfig config;
  config.block = o.choice<BlockKind>("block", {{"basic", BlockKind::kBasic}, {"bottleneck", BlockKind::kBottleneck}});
  Napi::Array layers = o.array("layers");
  for (uint32_t i = 0; i < layers.Length(); ++i) config.layers.push_back(layers.Get(i).As<Napi::Number>().Int64Value());
  config.groups = o.integer("groups");
  config.widthPerGroup = o.integer("widthPerGroup");
  return config;
}

VitConfig ReadVitConfig(const Options& o) {
  VitConfig config;
  config.imgSize = o.integer("imgSize");
  config.patchSize = o.integer("patchSize");
  config.embedDim = o.integer("embedDim");
  config.depth = o.integer("depth");
  config.numHeads = o.integer("numHeads");
  config.mlpRatio = o.number("mlpRatio");
  config.qkvBias = o.boolean("qkvBias");
  config.classToken = o.boolean("classToken");
  config.globalPool = o.choice<VitPool>("globalPool", {{"token", VitPool::kToken}, {"avg", VitPool::kAvg}});
  config.fcNorm = o.boolean("fcNorm");
  config.dropPathRate = o.number("dropPathRate");
  return config;
}

}  // namespace

Napi::Value ModelWrap::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options o(info[0], "createModel");
  std::function<std::unique_ptr<Model>(std::optional<uint64_t>)> build;
  int64_t numClasses = o.integer("numClasses");
  if (o.choice<Family>("family", {{"resnet", Family::kResNet}, {"vit", Family::kVit}}) == Family::kResNet) {
    build = [config = ReadResNetConfig(o), numClasses](auto seed) {
      return std::make_unique<Model>(config, numClasses, seed);
    };
  } else {
    build = [config = ReadVitConfig(o), numClasses](auto seed) {
      return std::make_unique<Model>(config, numClasses, seed);
    };
  }
  std::optional<int64_t> seed = o.optionalInteger("seed");
  auto handle = std::make_shared<ModelHandle>();
  auto parameters = std::make_shared<std::vector<std::pair<std::string, std::vector<int64_t>>>>();
  AsyncCall call(env);
  return call.run(
      [handle, build, seed, parameters] {
        std::optional<uint64_t> s;
        if (seed) s = AsSeed(*seed);
        handle->model = build(s);
        for (const auto& p : handle->model->net()->named_parameters()) {
          parameters->emplace_back(p.key(), p.value().sizes().vec());
        }
      },
      [handle, parameters](Napi::Env env) -> Napi::Value {
        Napi::Object model =
            env.GetInstanceData<AddonData>()->model.New({Napi::External<std::shared_ptr<ModelHandle>>::New(
                env, new std::shared_ptr<ModelHandle>(handle),
                [](Napi::Env, std::shared_ptr<ModelHandle>* p) { delete p; })});
        Napi::Array list = Napi::Array::New(env, parameters->size());
        for (size_t i = 0; i < parameters->size(); ++i) {
          Napi::Object entry = Napi::Object::New(env);
          entry.Set("name", (*parameters)[i].first);
          entry.Set("shape", ToShapeArray(env, (*parameters)[i].second));
          list.Set(static_cast<uint32_t>(i), entry);
        }
        Napi::Object out = Napi::Object::New(env);
        out.Set("model", model);
        out.Set("parameters", list);
        return out;
      });
}

Napi::Value ModelWrap::Run(AsyncCall& call, ModelWork work) {
  auto handle = handle_;
  auto result = std::make_shared<AsyncCall::Result>();
  auto bytes = std::make_shared<int64_t>(0);
  call.keep(Value());
  return call.run(
      [handle, work, result, bytes] {
        WithModel(*handle, [&](Model& model) {
          *result = work(model);
          *bytes = HostBytes(model.tensors());
        });
      },
      [this, result, bytes](Napi::Env env) {
        memory_.set(env, *bytes);
        return (*result)(env);
      });
}

// loadStateDict({ names, tensors, strict }) -> Promise<{ missing, unexpected }>
Napi::Value ModelWrap::LoadStateDict(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "loadStateDict");
  Napi::Array names = o.array("names");
  Napi::Array tensors = o.array("tensors");
  std::vector<NamedTensor> entries;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>();
    entries.emplace_back(name, ReadHostTensor(call, tensors.Get(i), "state_dict['" + name + "']"));
  }
  auto source = std::make_shared<TensorSource>(std::move(entries));
  bool strict = o.boolean("strict");
  return Run(call, [source, strict](Model& model) { return LoadResult(model.loadState(*source, strict)); });
}

// loadStateDictFromFile({ file, names, places, strict }) -> Promise<{ missing, unexpected }>
Napi::Value ModelWrap::LoadStateDictFromFile(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "loadStateDictFromFile");
  Napi::Array names = o.array("names");
  Napi::Array places = o.array("places");
  std::vector<std::pair<std::string, FileTensor>> entries;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>();
    entries.emplace_back(name, ReadFileTensor(places.Get(i), "state_dict['" + name + "']"));
  }
  auto source = std::make_shared<FileSource>(o.string("file"), std::move(entries));
  bool strict = o.boolean("strict");
  return Run(call, [source, strict](Model& model) { return LoadResult(model.loadState(*source, strict)); });
}

// stateDict() -> Promise<{ names, tensors }> (CPU copies).
Napi::Value ModelWrap::StateDict(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  return Run(call, [](Model& model) -> AsyncCall::Result {
    auto entries = std::make_shared<std::vector<NamedTensor>>(model.stateDict());
    return [entries](Napi::Env env) -> Napi::Value {
      Napi::Array names = Napi::Array::New(env, entries->size());
      Napi::Array tensors = Napi::Array::New(env, entries->size());
      for (size_t i = 0; i < entries->size(); ++i) {
        names.Set(static_cast<uint32_t>(i), (*entries)[i].first);
        tensors.Set(static_cast<uint32_t>(i), ToHostTensor(env, (*entries)[i].second));
      }
      Napi::Object out = Napi::Object::New(env);
      out.Set("names", names);
      out.Set("tensors", tensors);
      return out;
    };
  });
}

// forward({ input, training }) -> Promise<HostTensor> (logits)
Napi::Value ModelWrap::Forward(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "forward");
  torch::Tensor input = ReadHostTensor(call, o.value("input"), "input");
  bool training = o.boolean("training");
  return Run(call, [input, training](Model& model) { return TensorToJs(finetorch::Forward(model, input, training)); });
}

// features({ input }) -> Promise<HostTensor [N, features]>: the backbone in eval mode.
Napi::Value ModelWrap::Features(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "features");
  torch::Tensor input = ReadHostTensor(call, o.value("input"), "input");
  return Run(call, [input](Model& model) { return TensorToJs(finetorch::Features(model, input)); });
}

// trainStep({ input, target, headOnly, labelSmoothing, training, optimizer, groups })
//   -> Promise<{ loss, correct }>
Napi::Value ModelWrap::TrainStep(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "trainStep");
  Batch batch = ReadBatch(call, o);
  batch.labelSmoothing = o.number("labelSmoothing");
  bool training = o.boolean("training");
  OptimizerStep step = OptimizerWrap::ReadStep(call, o, handle_);
  return Run(call, [batch, training, step](Model& model) {
    return step.report(StepResultToJs(finetorch::TrainStep(model, batch, step.optimizer(), step.groups, training)));
  });
}

// evalStep({ input, target, headOnly, logits }) -> Promise<{ loss, correct, logits? }> in eval mode.
Napi::Value ModelWrap::EvalStep(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "evalStep");
  Batch batch = ReadBatch(call, o);
  bool withLogits = o.boolean("logits");
  return Run(call, [batch, withLogits](Model& model) {
    return StepResultToJs(finetorch::EvalStep(model, batch, withLogits));
  });
}

// to({ device }) -> Promise<string> (the device's canonical name)
Napi::Value ModelWrap::To(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  std::string name = Options(info[0], "to").string("device");
  return Run(call, [name](Model& model) -> AsyncCall::Result {
    model.to(ParseDevice(name));
    std::string device = model.device().str();
    return [device](Napi::Env env) -> Napi::Value { return Napi::String::New(env, device); };
  });
}

// resetClassifier({ numClasses, head: 'linear' | 'mae-probe', init: 'default' | 'xavier' |
// 'trunc-normal', std, seed? }) -> Promise<void>
Napi::Value ModelWrap::ResetClassifier(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "resetClassifier");
  int64_t numClasses = o.integer("numClasses");
  HeadKind kind = o.choice<HeadKind>("head", {{"linear", HeadKind::kLinear}, {"mae-probe", HeadKind::kMaeProbe}});
  HeadInit init;
  init.kind = o.choice<HeadInit::Kind>("init", {{"default", HeadInit::Kind::kDefault},
                                                {"xavier", HeadInit::Kind::kXavier},
                                                {"trunc-normal", HeadInit::Kind::kTruncNormal}});
  init.std = o.number("std");
  std::optional<int64_t> seed = o.optionalInteger("seed");
  return Run(call, [numClasses, kind, init, seed](Model& model) {
    std::optional<uint64_t> s;
    if (seed) s = AsSeed(*seed);
    model.resetClassifier(numClasses, kind, init, s);
    return Nothing();
  });
}

// setRequiresGrad({ flags: [name, requiresGrad][], bnTrainWhenFrozen }) -> Promise<void>
Napi::Value ModelWrap::SetRequiresGrad(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "setRequiresGrad");
  Napi::Array list = o.array("flags");
  std::vector<std::pair<std::string, bool>> flags;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Array pair = list.Get(i).As<Napi::Array>();
    flags.emplace_back(pair.Get(0u).As<Napi::String>(), pair.Get(1u).As<Napi::Boolean>());
  }
  bool bnTrain = o.boolean("bnTrainWhenFrozen");
  return Run(call, [flags, bnTrain](Model& model) {
    model.setRequiresGrad(flags, bnTrain);
    return Nothing();
  });
}

// setPrecision({ amp: 'none' | 'fp16' | 'bf16', channelsLast }) -> Promise<void>
Napi::Value ModelWrap::SetPrecision(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "setPrecision");
  Amp amp = o.choice<Amp>("amp", {{"none", Amp::kNone}, {"fp16", Amp::kFloat16}, {"bf16", Amp::kBFloat16}});
  bool channelsLast = o.boolean("channelsLast");
  return Run(call, [amp, channelsLast](Model& model) {
    model.setPrecision(amp, channelsLast);
    return Nothing();
  });
}

// setDropPathRate({ rate }) -> Promise<void>: a VisionTransformer's stochastic depth.
Napi::Value ModelWrap::SetDropPathRate(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  double rate = Options(info[0], "setDropPathRate").number("rate");
  return Run(call, [rate](Model& model) {
    auto* vit = dynamic_cast<VisionTransformerImpl*>(model.net().get());
    if (!vit) throw Error(ErrorCode::kBadInput, "setDropPathRate: only a VisionTransformer has drop path");
    vit->setDropPathRate(rate);
    return Nothing();
  });
}

// lossScale() -> Promise<number>: the fp16 GradScaler's current scale.
Napi::Value ModelWrap::LossScale(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  return Run(call, [](Model& model) -> AsyncCall::Result {
    double scale = model.scaler().currentScale();
    return [scale](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, scale); };
  });
}

// dispose() -> Promise<void>: frees the model now; a second dispose() is a no-op.
Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  call.keep(Value());
  auto handle = handle_;
  return call.run(
      [handle] {
        std::unique_lock<std::mutex> lock(handle->mutex, std::try_to_lock);
        if (!lock.owns_lock())
          throw Error(ErrorCode::kBusy, "the model is busy with another operation; await it first");
        handle->model.reset();
      },
      [this](Napi::Env env) -> Napi::Value {
        memory_.set(env, 0);
        return env.Undefined();
      });
}

}  // namespace finetorch
