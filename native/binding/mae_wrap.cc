#include "binding/mae_wrap.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "binding/addon_data.h"
#include "binding/host_tensor.h"
#include "binding/optimizer_wrap.h"
#include "binding/options.h"
#include "core/error.h"
#include "core/mae_step.h"
#include "core/nn/masking.h"
#include "core/runtime.h"
#include "core/seeded.h"
#include "core/state_dict.h"

namespace finetorch {
namespace {

MaeConfig ReadMaeConfig(const Options& o) {
  MaeConfig config;
  config.encoder.imgSize = o.integer("imgSize");
  config.encoder.patchSize = o.integer("patchSize");
  config.encoder.embedDim = o.integer("embedDim");
  config.encoder.depth = o.integer("depth");
  config.encoder.numHeads = o.integer("numHeads");
  config.encoder.mlpRatio = o.number("mlpRatio");
  config.decoderEmbedDim = o.integer("decoderEmbedDim");
  config.decoderDepth = o.integer("decoderDepth");
  config.decoderNumHeads = o.integer("decoderNumHeads");
  config.normPixLoss = o.boolean("normPixLoss");
  return config;
}

// { names, tensors } of CPU copies.
Napi::Object NamedTensorsToJs(Napi::Env env, const std::vector<NamedTensor>& entries) {
  Napi::Array names = Napi::Array::New(env, entries.size());
  Napi::Array tensors = Napi::Array::New(env, entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    names.Set(static_cast<uint32_t>(i), entries[i].first);
    tensors.Set(static_cast<uint32_t>(i), ToHostTensor(env, entries[i].second));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("names", names);
  out.Set("tensors", tensors);
  return out;
}

std::vector<std::string> ReadStrings(const Napi::Array& array) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(array.Get(i).As<Napi::String>());
  return out;
}

Napi::Array ToStringArray(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array array = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) array.Set(static_cast<uint32_t>(i), items[i]);
  return array;
}

torch::Tensor HostCopy(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU).contiguous();
}

std::vector<torch::Tensor> HeldTensors(MaskedAutoencoderImpl& net) {
  std::vector<torch::Tensor> all = net.parameters();
  for (const auto& p : net.parameters()) {
    if (p.grad().defined()) all.push_back(p.grad());
  }
  return all;
}

// The images and the noise that decides the mask, as forwardLoss and trainStep take them: the
// caller's noise, or torch.rand(N, L) from a generator seeded with noiseSeed.
struct MaskedBatch {
  torch::Tensor images;
  torch::Tensor noise;
  std::optional<int64_t> noiseSeed;
  double maskRatio = 0;

  // Both on the model's device, checked against it (on the pool).
  std::pair<torch::Tensor, torch::Tensor> prepare(MaskedAutoencoderImpl& net) const {
    const torch::Device device = net.cls_token.device();
    torch::Tensor input = images.to(device, torch::kFloat32);
    torch::Tensor draw = noise;
    if (!draw.defined()) {
      draw =
          MaskingNoise(input.dim() > 0 ? input.size(0) : 0, net.config.numPatches(), static_cast<uint64_t>(*noiseSeed));
    }
    draw = draw.to(device, torch::kFloat32);
    net.checkInput(input, draw, maskRatio);
    return {input, draw};
  }
};

MaskedBatch ReadMaskedBatch(AsyncCall& call, const Options& o) {
  MaskedBatch batch;
  batch.images = ReadHostTensor(call, o.value("images"), "images");
  batch.maskRatio = o.number("maskRatio");
  if (!o.value("noise").IsUndefined()) batch.noise = ReadHostTensor(call, o.value("noise"), "noise");
  batch.noiseSeed = o.optionalInteger("noiseSeed");
  if (batch.noise.defined() == batch.noiseSeed.has_value()) throw o.fail("noise", "either noise or noiseSeed");
  return batch;
}

}  // namespace

Napi::Function MaeWrap::Define(Napi::Env env) {
  return DefineClass(env, "MaskedAutoencoder",
                     {
                         InstanceMethod<&MaeWrap::LoadStateDict>("loadStateDict"),
                         InstanceMethod<&MaeWrap::StateDict>("stateDict"),
                         InstanceMethod<&MaeWrap::ForwardLoss>("forwardLoss"),
                         InstanceMethod<&MaeWrap::TrainStep>("trainStep"),
                         InstanceMethod<&MaeWrap::To>("to"),
                         InstanceMethod<&MaeWrap::Dispose>("dispose"),
                     });
}

// Reached only from Create, with the built handle in an External.
MaeWrap::MaeWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MaeWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "use createMae(options) to make a masked autoencoder");
  }
  handle_ = *info[0].As<Napi::External<std::shared_ptr<MaeHandle>>>().Data();
}

MaeWrap::~MaeWrap() {
  memory_.set(Env(), 0);
}

Napi::Value MaeWrap::Create(const Napi::CallbackInfo& info) {
  Options o(info[0], "createMae");
  MaeConfig config = ReadMaeConfig(o);
  std::optional<int64_t> seed = o.optionalInteger("seed");
  auto handle = std::make_shared<MaeHandle>();
  auto parameters = std::make_shared<std::vector<NamedTensor>>();
  AsyncCall call(info.Env());
  return call.run(
      [handle, config, seed, parameters] {
        std::optional<uint64_t> s;
        if (seed) s = static_cast<uint64_t>(*seed);
        Seeded(s, [&] { handle->net = MaskedAutoencoder(config); });
        for (const auto& p : handle->net->named_parameters()) parameters->emplace_back(p.key(), p.value());
      },
      [handle, parameters](Napi::Env env) -> Napi::Value {
        Napi::Object model = env.GetInstanceData<AddonData>()->mae.New({Napi::External<std::shared_ptr<MaeHandle>>::New(
            env, new std::shared_ptr<MaeHandle>(handle), [](Napi::Env, std::shared_ptr<MaeHandle>* p) { delete p; })});
        Napi::Array list = Napi::Array::New(env, parameters->size());
        for (size_t i = 0; i < parameters->size(); ++i) {
          const auto& [name, tensor] = (*parameters)[i];
          Napi::Array shape = Napi::Array::New(env, tensor.dim());
          for (int64_t d = 0; d < tensor.dim(); ++d)
            shape.Set(static_cast<uint32_t>(d), static_cast<double>(tensor.size(d)));
          Napi::Object entry = Napi::Object::New(env);
          entry.Set("name", name);
          entry.Set("shape", shape);
          entry.Set("requiresGrad", tensor.requires_grad());
          list.Set(static_cast<uint32_t>(i), entry);
        }
        Napi::Object out = Napi::Object::New(env);
        out.Set("model", model);
        out.Set("parameters", list);
        return out;
      });
}

Napi::Value MaeWrap::Run(AsyncCall& call, Work work) {
  auto handle = handle_;
  auto result = std::make_shared<AsyncCall::Result>();
  auto bytes = std::make_shared<int64_t>(0);
  call.keep(Value());
  return call.run(
      [handle, work, result, bytes] {
        WithNet(*handle, [&](torch::nn::Module&) {
          *result = work(*handle->net);
          *bytes = HostBytes(HeldTensors(*handle->net));
        });
      },
      [this, result, bytes](Napi::Env env) {
        memory_.set(env, *bytes);
        return (*result)(env);
      });
}

// loadStateDict({ names, tensors, strict }) -> Promise<{ missing, unexpected }>
Napi::Value MaeWrap::LoadStateDict(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "loadStateDict");
  std::vector<std::string> names = ReadStrings(o.array("names"));
  Napi::Array tensors = o.array("tensors");
  std::vector<NamedTensor> entries;
  for (uint32_t i = 0; i < names.size(); ++i) {
    entries.emplace_back(names[i], ReadHostTensor(call, tensors.Get(i), "state_dict['" + names[i] + "']"));
  }
  auto source = std::make_shared<TensorSource>(std::move(entries));
  bool strict = o.boolean("strict");
  return Run(call, [source, strict](MaskedAutoencoderImpl& net) -> AsyncCall::Result {
    LoadReport report = LoadState(net, "MaskedAutoencoderViT", *source, strict);
    return [report](Napi::Env env) -> Napi::Value {
      Napi::Object out = Napi::Object::New(env);
      out.Set("missing", ToStringArray(env, report.missing));
      out.Set("unexpected", ToStringArray(env, report.unexpected));
      return out;
    };
  });
}

// stateDict() -> Promise<{ names, tensors }> (CPU copies, MAE's keys and order).
Napi::Value MaeWrap::StateDict(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  return Run(call, [](MaskedAutoencoderImpl& net) -> AsyncCall::Result {
    auto entries = std::make_shared<std::vector<NamedTensor>>();
    for (auto& [name, tensor] : StateEntries(net)) entries->emplace_back(name, HostCopy(tensor));
    return [entries](Napi::Env env) -> Napi::Value { return NamedTensorsToJs(env, *entries); };
  });
}

// forwardLoss({ images, maskRatio, noise?: HostTensor [N, L], noiseSeed?, gradients })
//   -> Promise<{ loss, pred, mask, idsRestore, gradients?: { names, tensors } }>
// The noise is the caller's, or torch.rand(N, L) from a generator seeded with noiseSeed. With
// gradients, the parameters' gradients are zeroed, the loss back-propagated, and the gradients of
// the trainable parameters returned.
Napi::Value MaeWrap::ForwardLoss(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "forwardLoss");
  MaskedBatch batch = ReadMaskedBatch(call, o);
  bool gradients = o.boolean("gradients");
  return Run(call, [batch, gradients](MaskedAutoencoderImpl& net) -> AsyncCall::Result {
    std::optional<torch::NoGradGuard> noGrad;
    if (!gradients) noGrad.emplace();
    auto [input, draw] = batch.prepare(net);
    MaeOutput out = net.forward(input, draw, batch.maskRatio);
    auto grads = std::make_shared<std::vector<NamedTensor>>();
    if (gradients) {
      net.zero_grad();
      out.loss.backward();
      for (const auto& p : net.named_parameters()) {
        if (p.value().requires_grad()) grads->emplace_back(p.key(), HostCopy(p.value().grad()));
      }
    }
    double loss = out.loss.item<double>();
    torch::Tensor pred = HostCopy(out.pred), mask = HostCopy(out.mask), idsRestore = HostCopy(out.idsRestore);
    return [loss, pred, mask, idsRestore, grads, gradients](Napi::Env env) -> Napi::Value {
      Napi::Object result = Napi::Object::New(env);
      result.Set("loss", loss);
      result.Set("pred", ToHostTensor(env, pred));
      result.Set("mask", ToHostTensor(env, mask));
      result.Set("idsRestore", ToHostTensor(env, idsRestore));
      if (gradients) result.Set("gradients", NamedTensorsToJs(env, *grads));
      return result;
    };
  });
}

// trainStep({ images, maskRatio, noise?, noiseSeed?, optimizer, groups }) -> Promise<{ loss }>:
// forward on the visible patches, the loss, backward and one step of the attached optimizer.
Napi::Value MaeWrap::TrainStep(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "trainStep");
  MaskedBatch batch = ReadMaskedBatch(call, o);
  OptimizerStep step = OptimizerWrap::ReadStep(call, o, handle_);
  return Run(call, [batch, step](MaskedAutoencoderImpl& net) {
    auto [input, draw] = batch.prepare(net);
    double loss = MaeTrainStep(net, input, draw, batch.maskRatio, step.optimizer(), step.groups);
    return step.report([loss](Napi::Env env) -> Napi::Value {
      Napi::Object out = Napi::Object::New(env);
      out.Set("loss", loss);
      return out;
    });
  });
}

// to({ device }) -> Promise<string> (the device's canonical name)
Napi::Value MaeWrap::To(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  std::string name = Options(info[0], "to").string("device");
  return Run(call, [name](MaskedAutoencoderImpl& net) -> AsyncCall::Result {
    net.to(ParseDevice(name));
    std::string device = net.cls_token.device().str();
    return [device](Napi::Env env) -> Napi::Value { return Napi::String::New(env, device); };
  });
}

// dispose() -> Promise<void>: frees the model now; a second dispose() is a no-op.
Napi::Value MaeWrap::Dispose(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  call.keep(Value());
  auto handle = handle_;
  return call.run(
      [handle] {
        std::unique_lock<std::mutex> lock(handle->mutex, std::try_to_lock);
        if (!lock.owns_lock())
          throw Error(ErrorCode::kBusy, "the model is busy with another operation; await it first");
        handle->net = nullptr;
      },
      [this](Napi::Env env) -> Napi::Value {
        memory_.set(env, 0);
        return env.Undefined();
      });
}

}  // namespace finetorch
