#include "model.h"

#include <cmath>
#include <unordered_map>

#include "errors.h"
#include "file_tensor.h"
#include "sgd_wrap.h"
#include "tensor.h"
#include "worker.h"

namespace finetorch {
namespace {

// torch's global RNG seeds weight initialisation; one seeded initialisation at a time.
std::mutex& RngMutex() {
  static std::mutex mutex;
  return mutex;
}

std::vector<torch::Tensor> AllTensors(ResNet18& net) {
  std::vector<torch::Tensor> all = net->parameters();
  for (const auto& p : net->parameters()) {
    if (p.grad().defined()) all.push_back(p.grad());
  }
  for (const auto& b : net->buffers()) all.push_back(b);
  return all;
}

// Parameters and buffers in torchvision's state_dict order: module by module, its own
// parameters, then its own buffers.
std::vector<std::pair<std::string, torch::Tensor>> StateEntries(ResNet18& net) {
  std::vector<std::pair<std::string, torch::Tensor>> entries;
  for (const auto& module : net->named_modules()) {
    std::string prefix = module.key().empty() ? "" : module.key() + ".";
    for (const auto& p : module.value()->named_parameters(/*recurse=*/false))
      entries.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : module.value()->named_buffers(/*recurse=*/false))
      entries.emplace_back(prefix + b.key(), b.value());
  }
  return entries;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Moves a user batch to the model's device after checking its shape: images [N, 3, H, W] or,
// for the head alone, backbone features [N, 512]; float32 either way. To a GPU the batch goes
// through pinned memory with a non-blocking copy; images follow the model's memory format.
torch::Tensor CheckedInput(const torch::Tensor& input, const ModelState& state, bool features = false) {
  bool ok =
      input.scalar_type() == torch::kFloat32 && (features ? input.dim() == 2 && input.size(1) == ResNet18Impl::kFeatures
                                                          : input.dim() == 4 && input.size(1) == 3);
  if (!ok) {
    throw UserError(std::string(features ? "features must be float32 of shape [N, 512]"
                                         : "input must be float32 of shape [N, 3, H, W]") +
                    ", got " + DtypeName(input.scalar_type()) + " " + ShapeString(input.sizes()));
  }
  if (input.size(0) == 0) throw UserError("the batch is empty (N = 0)");
  torch::Device device = state.net->fc->weight.device();
  torch::Tensor x = device.is_cuda() ? input.pin_memory().to(device, /*non_blocking=*/true) : input;
  if (state.channelsLast && !features) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  return x;
}

torch::Tensor CheckedTarget(const torch::Tensor& target, int64_t batch, int64_t numClasses,
                            const torch::Device& device) {
  if (target.dim() != 1 || target.size(0) != batch) {
    throw UserError("target must hold one label per input (" + std::to_string(batch) + "), got shape " +
                    ShapeString(target.sizes()));
  }
  torch::Tensor labels = target.to(torch::kLong);
  torch::Tensor bad = ((labels < 0) | (labels >= numClasses)).nonzero();
  if (bad.size(0) > 0) {
    int64_t at = bad[0][0].item<int64_t>();
    throw UserError("label " + std::to_string(labels[at].item<int64_t>()) + " at index " + std::to_string(at) +
                    " is out of range for " + std::to_string(numClasses) + " classes");
  }
  return labels.to(device);
}

// Train mode, except BatchNorm layers whose parameters are all frozen (linear probing keeps
// their running statistics unless asked otherwise).
void SetTrainingModes(ModelState& state) {
  ResNet18& net = state.net;
  net->train();
  if (state.bnTrainWhenFrozen) return;
  for (const auto& module : net->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      if (!bn->weight.requires_grad() && !bn->bias.requires_grad()) bn->eval();
    }
  }
}

struct StepResult {
  double loss = 0;
  int64_t correct = 0;
  torch::Tensor logits;
};

Napi::Object StepResultToJs(Napi::Env env, const StepResult& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", r.loss);
  out.Set("correct", static_cast<double>(r.correct));
  if (r.logits.defined()) out.Set("logits", ToHostTensor(env, r.logits));
  return out;
}

StepResult Score(const torch::Tensor& logits, const torch::Tensor& labels) {
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
  StepResult r;
  r.loss = loss.item<double>();
  r.correct = logits.argmax(1).eq(labels).sum().item<int64_t>();
  return r;
}

// Matches a state dict's names and shapes to the model's parameters and buffers, as PyTorch's
// load_state_dict does; throws one error listing every problem before anything is changed.
LoadPlan PlanLoad(ResNet18& net, const std::vector<std::pair<std::string, std::vector<int64_t>>>& given, bool strict) {
  LoadPlan plan;
  std::unordered_map<std::string, torch::Tensor> own;
  auto entries = StateEntries(net);
  for (const auto& e : entries) own.emplace(e.first, e.second);
  std::unordered_map<std::string, bool> named;
  std::vector<std::string> mismatched;
  for (const auto& [name, shape] : given) {
    named.emplace(name, true);
    auto found = own.find(name);
    if (found == own.end()) {
      plan.unexpected.push_back(name);
      plan.targets.emplace_back();
      continue;
    }
    if (c10::IntArrayRef(shape) != found->second.sizes()) {
      mismatched.push_back("size mismatch for " + name + ": copying a param with shape " + ShapeString(shape) +
                           ", the shape in current model is " + ShapeString(found->second.sizes()));
    }
    plan.targets.push_back(found->second);
  }
  // Files from before BatchNorm tracked batches (e.g. resnet18-5c106cde.pth) lack
  // num_batches_tracked; PyTorch starts those counters at 0 and so do we.
  for (const auto& e : entries) {
    if (named.count(e.first)) continue;
    if (EndsWith(e.first, ".num_batches_tracked")) {
      plan.resetCounters.push_back(e.second);
    } else {
      plan.missing.push_back(e.first);
    }
  }
  if (!mismatched.empty() || (strict && (!plan.missing.empty() || !plan.unexpected.empty()))) {
    auto list = [](const std::vector<std::string>& keys) {
      std::string joined;
      for (size_t i = 0; i < keys.size(); ++i) joined += (i ? ", \"" : "\"") + keys[i] + "\"";
      return joined;
    };
    std::string message = "Error(s) in loading state_dict for ResNet18:";
    if (strict && !plan.missing.empty()) message += "\n  Missing key(s) in state_dict: " + list(plan.missing);
    if (strict && !plan.unexpected.empty()) message += "\n  Unexpected key(s) in state_dict: " + list(plan.unexpected);
    for (const auto& m : mismatched) message += "\n  " + m;
    throw UserError(message);
  }
  return plan;
}

}  // namespace

ResNet18& ModelState::checked() {
  if (!net) throw UserError("this model has been disposed");
  return net;
}

Napi::Function ModelWrap::Define(Napi::Env env) {
  return DefineClass(env, "Model",
                     {
                         InstanceAccessor<&ModelWrap::NumClasses>("numClasses"),
                         InstanceAccessor<&ModelWrap::Device>("device"),
                         InstanceMethod<&ModelWrap::Parameters>("parameters"),
                         InstanceMethod<&ModelWrap::LoadStateDict>("loadStateDict"),
                         InstanceMethod<&ModelWrap::LoadStateDictFromFile>("loadStateDictFromFile"),
                         InstanceMethod<&ModelWrap::StateDict>("stateDict"),
                         InstanceMethod<&ModelWrap::Forward>("forward"),
                         InstanceMethod<&ModelWrap::Features>("features"),
                         InstanceMethod<&ModelWrap::TrainStep>("trainStep"),
                         InstanceMethod<&ModelWrap::EvalStep>("evalStep"),
                         InstanceMethod<&ModelWrap::To>("to"),
                         InstanceMethod<&ModelWrap::ReplaceFc>("replaceFc"),
                         InstanceMethod<&ModelWrap::SetRequiresGrad>("setRequiresGrad"),
                         InstanceMethod<&ModelWrap::SetPrecision>("setPrecision"),
                         InstanceAccessor<&ModelWrap::LossScale>("lossScale"),
                         InstanceMethod<&ModelWrap::Dispose>("dispose"),
                     });
}

// The constructor is reached only from Create, with the built state in an External.
ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "use createModel(numClasses, seed) to make a model");
  }
  state_ = *info[0].As<Napi::External<std::shared_ptr<ModelState>>>().Data();
  updateMemory(info.Env());
}

ModelWrap::~ModelWrap() {
  memory_.set(Env(), 0);
}

Napi::Value ModelWrap::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "createModel(numClasses, seed)");
  }
  int64_t numClasses = info[0].As<Napi::Number>().Int64Value();
  uint64_t seed = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  if (numClasses < 1) throw Napi::RangeError::New(env, "numClasses must be a positive integer");
  auto state = std::make_shared<ModelState>();
  auto* constructor = env.GetInstanceData<Napi::FunctionReference>();
  return PromiseWorker::Run(
      env,
      [state, numClasses, seed] {
        std::lock_guard<std::mutex> rng(RngMutex());
        torch::manual_seed(seed);
        state->net = ResNet18(numClasses);
      },
      [state, constructor](Napi::Env env) -> Napi::Value {
        return constructor->New({Napi::External<std::shared_ptr<ModelState>>::New(
            env, new std::shared_ptr<ModelState>(state), [](Napi::Env, std::shared_ptr<ModelState>* p) { delete p; })});
      });
}

template <typename F>
auto ModelWrap::withModelNow(Napi::Env env, F&& f) {
  return Guarded(env, [&] {
    std::unique_lock<std::mutex> lock(state_->mutex, std::try_to_lock);
    if (!lock.owns_lock()) throw UserError("the model is busy with another operation; await it first");
    return f(state_->checked());
  });
}

void ModelWrap::updateMemory(Napi::Env env) {
  std::unique_lock<std::mutex> lock(state_->mutex, std::try_to_lock);
  if (!lock.owns_lock()) return;  // a worker is running; the next update catches up
  memory_.set(env, state_->net ? HostBytes(AllTensors(state_->net)) : 0);
}

Napi::Value ModelWrap::NumClasses(const Napi::CallbackInfo& info) {
  return withModelNow(info.Env(),
                      [&](ResNet18& net) { return Napi::Number::New(info.Env(), net->fc->options.out_features()); });
}

Napi::Value ModelWrap::Device(const Napi::CallbackInfo& info) {
  return withModelNow(info.Env(),
                      [&](ResNet18& net) { return Napi::String::New(info.Env(), net->fc->weight.device().str()); });
}

// parameters() -> [{ name, shape, requiresGrad }] in registration order.
Napi::Value ModelWrap::Parameters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return withModelNow(env, [&](ResNet18& net) {
    auto named = net->named_parameters();
    Napi::Array out = Napi::Array::New(env, named.size());
    uint32_t i = 0;
    for (const auto& p : named) {
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("name", p.key());
      Napi::Array shape = Napi::Array::New(env, p.value().dim());
      for (int64_t d = 0; d < p.value().dim(); ++d) shape.Set(static_cast<uint32_t>(d), p.value().size(d));
      entry.Set("shape", shape);
      entry.Set("requiresGrad", p.value().requires_grad());
      out.Set(i++, entry);
    }
    return out;
  });
}

// loadStateDict(names: string[], tensors: HostTensor[], strict: boolean)
//   -> Promise<{ missing: string[], unexpected: string[] }>
// Every key and shape is checked before anything is copied, so a failed load changes nothing.
Napi::Value ModelWrap::LoadStateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsArray()) {
    throw Napi::TypeError::New(env, "loadStateDict(names, tensors, strict)");
  }
  Napi::Array names = info[0].As<Napi::Array>();
  Napi::Array tensors = info[1].As<Napi::Array>();
  bool strict = info[2].ToBoolean();
  auto input = std::make_shared<std::vector<std::pair<std::string, HostTensorRef>>>();
  std::vector<Napi::Object> keep{info.This().As<Napi::Object>()};
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>();
    input->emplace_back(name, ReadHostTensor(tensors.Get(i), "state_dict['" + name + "']"));
    keep.push_back(input->back().second.object);
  }
  auto state = state_;
  auto plan = std::make_shared<LoadPlan>();
  return PromiseWorker::Run(
      env,
      [state, input, strict, plan] {
        std::lock_guard<std::mutex> lock(state->mutex);
        std::vector<std::pair<std::string, std::vector<int64_t>>> given;
        for (const auto& [name, ref] : *input) given.emplace_back(name, ref.shape);
        *plan = PlanLoad(state->checked(), given, strict);
        torch::NoGradGuard noGrad;
        for (size_t i = 0; i < input->size(); ++i) {
          if (plan->targets[i].defined()) plan->targets[i].copy_((*input)[i].second.View());
        }
        for (auto& counter : plan->resetCounters) counter.zero_();
      },
      [this, plan](Napi::Env env) { return LoadResult(env, *plan); }, keep);
}

// loadStateDictFromFile(file: string, names: string[], places: FileTensor[], strict: boolean)
//   -> Promise<{ missing: string[], unexpected: string[] }>
// As loadStateDict, with each tensor read from the file straight into the model.
Napi::Value ModelWrap::LoadStateDictFromFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsArray()) {
    throw Napi::TypeError::New(env, "loadStateDictFromFile(file, names, places, strict)");
  }
  std::string file = info[0].As<Napi::String>();
  Napi::Array names = info[1].As<Napi::Array>();
  Napi::Array places = info[2].As<Napi::Array>();
  bool strict = info[3].ToBoolean();
  auto input = std::make_shared<std::vector<std::pair<std::string, FileTensor>>>();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>();
    input->emplace_back(name, ReadFileTensor(places.Get(i), "state_dict['" + name + "']"));
  }
  auto state = state_;
  auto plan = std::make_shared<LoadPlan>();
  return PromiseWorker::Run(
      env,
      [state, file, input, strict, plan] {
        std::lock_guard<std::mutex> lock(state->mutex);
        std::vector<std::pair<std::string, std::vector<int64_t>>> given;
        for (const auto& [name, place] : *input) given.emplace_back(name, place.shape);
        *plan = PlanLoad(state->checked(), given, strict);
        std::vector<FileRead> reads;
        for (size_t i = 0; i < input->size(); ++i) {
          if (plan->targets[i].defined()) reads.push_back({(*input)[i].first, &(*input)[i].second, plan->targets[i]});
        }
        ReadFileTensors(file, reads);
        torch::NoGradGuard noGrad;
        for (auto& counter : plan->resetCounters) counter.zero_();
      },
      [this, plan](Napi::Env env) { return LoadResult(env, *plan); }, {info.This().As<Napi::Object>()});
}

Napi::Value ModelWrap::LoadResult(Napi::Env env, const LoadPlan& plan) {
  updateMemory(env);
  auto toArray = [env](const std::vector<std::string>& items) {
    Napi::Array array = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); ++i) array.Set(static_cast<uint32_t>(i), items[i]);
    return array;
  };
  Napi::Object out = Napi::Object::New(env);
  out.Set("missing", toArray(plan.missing));
  out.Set("unexpected", toArray(plan.unexpected));
  return out;
}

// stateDict() -> Promise<{ names: string[], tensors: HostTensor[] }> (CPU copies).
Napi::Value ModelWrap::StateDict(const Napi::CallbackInfo& info) {
  auto state = state_;
  auto entries = std::make_shared<std::vector<std::pair<std::string, torch::Tensor>>>();
  return PromiseWorker::Run(
      info.Env(),
      [state, entries] {
        std::lock_guard<std::mutex> lock(state->mutex);
        for (auto& [name, tensor] : StateEntries(state->checked())) {
          entries->emplace_back(name, tensor.detach().to(torch::kCPU).contiguous());
        }
      },
      [entries](Napi::Env env) -> Napi::Value {
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
      });
}

// forward(input: HostTensor, training: boolean) -> Promise<HostTensor> (logits)
Napi::Value ModelWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HostTensorRef input = ReadHostTensor(info[0], "input");
  bool training = info[1].ToBoolean();
  auto state = state_;
  auto output = std::make_shared<torch::Tensor>();
  return PromiseWorker::Run(
      env,
      [state, input, training, output] {
        std::lock_guard<std::mutex> lock(state->mutex);
        ResNet18& net = state->checked();
        torch::Tensor x = CheckedInput(input.View(), *state);
        torch::NoGradGuard noGrad;
        AutocastScope autocast(state->amp, x.device());
        net->train(training);
        *output = net->forward(x).to(torch::kCPU, torch::kFloat32);
      },
      [output](Napi::Env env) -> Napi::Value { return ToHostTensor(env, *output); },
      {info.This().As<Napi::Object>(), input.object});
}

// features(input: HostTensor) -> Promise<HostTensor [N, 512]>: the backbone in eval mode.
Napi::Value ModelWrap::Features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HostTensorRef input = ReadHostTensor(info[0], "input");
  auto state = state_;
  auto output = std::make_shared<torch::Tensor>();
  return PromiseWorker::Run(
      env,
      [state, input, output] {
        std::lock_guard<std::mutex> lock(state->mutex);
        ResNet18& net = state->checked();
        torch::Tensor x = CheckedInput(input.View(), *state);
        torch::NoGradGuard noGrad;
        AutocastScope autocast(state->amp, x.device());
        net->eval();
        *output = net->features(x).to(torch::kCPU, torch::kFloat32);
      },
      [output](Napi::Env env) -> Napi::Value { return ToHostTensor(env, *output); },
      {info.This().As<Napi::Object>(), input.object});
}

// trainStep(input, target, sgd, groupOptions, fromFeatures) -> Promise<{ loss, correct }>
// Forward, mean cross-entropy, backward, SGD step. With fromFeatures the input is [N, 512]
// backbone features and only fc runs (the linear probe's feature cache). A non-finite loss
// restores the BatchNorm statistics the forward pass touched and steps nothing.
Napi::Value ModelWrap::TrainStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HostTensorRef input = ReadHostTensor(info[0], "input");
  HostTensorRef target = ReadHostTensor(info[1], "target");
  SgdWrap* sgdWrap = SgdWrap::Unwrap(info[2]);
  std::vector<SgdOptions> options = sgdWrap->readOptions(info[3]);
  bool fromFeatures = info[4].ToBoolean();
  if (sgdWrap->model() != state_) throw Napi::Error::New(env, "trainStep: the optimizer belongs to another model");
  auto state = state_;
  auto sgd = sgdWrap->sgd();
  auto result = std::make_shared<StepResult>();
  return PromiseWorker::Run(
      env,
      [state, input, target, sgd, options, fromFeatures, result] {
        std::lock_guard<std::mutex> lock(state->mutex);
        ResNet18& net = state->checked();
        torch::Device device = net->fc->weight.device();
        torch::Tensor x = CheckedInput(input.View(), *state, fromFeatures);
        torch::Tensor labels = CheckedTarget(target.View(), x.size(0), net->fc->options.out_features(), device);
        SetTrainingModes(*state);
        std::vector<torch::Tensor> buffers = net->buffers();
        std::vector<torch::Tensor> saved;
        for (const auto& b : buffers) saved.push_back(b.clone());
        for (auto& p : net->parameters()) p.mutable_grad().reset();

        torch::Tensor logits, loss;
        try {
          AutocastScope autocast(state->amp, device);
          logits = fromFeatures ? net->fc(x) : net->forward(x);
          loss = torch::nn::functional::cross_entropy(logits, labels);
          result->loss = loss.item<double>();
          if (!std::isfinite(result->loss)) {
            throw UserError("the loss is " + std::to_string(result->loss) +
                            "; the model and optimizer were left as they were before this step");
          }
        } catch (...) {
          // The forward pass may have updated BatchNorm statistics before it failed.
          torch::NoGradGuard noGrad;
          for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
          throw;
        }
        if (state->amp == Amp::kFloat16) {
          // GradScaler's step: scaled backward, unscale, skip the step on inf/NaN, update.
          state->scaler.scale(loss).backward();
          std::vector<torch::Tensor> grads;
          for (const auto& p : net->parameters()) {
            if (p.grad().defined()) grads.push_back(p.grad());
          }
          if (state->scaler.unscale(grads)) sgd->step(options);
          state->scaler.update();
        } else {
          loss.backward();
          sgd->step(options);
        }
        result->correct = logits.argmax(1).eq(labels).sum().item<int64_t>();
      },
      [this, sgdWrap, result](Napi::Env env) -> Napi::Value {
        updateMemory(env);
        sgdWrap->updateMemory(env);
        return StepResultToJs(env, *result);
      },
      {info.This().As<Napi::Object>(), info[2].As<Napi::Object>(), input.object, target.object});
}

// evalStep(input, target, withLogits, fromFeatures) -> Promise<{ loss, correct, logits? }> in
// eval mode; fromFeatures as in trainStep.
Napi::Value ModelWrap::EvalStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HostTensorRef input = ReadHostTensor(info[0], "input");
  HostTensorRef target = ReadHostTensor(info[1], "target");
  bool withLogits = info[2].ToBoolean();
  bool fromFeatures = info[3].ToBoolean();
  auto state = state_;
  auto result = std::make_shared<StepResult>();
  return PromiseWorker::Run(
      env,
      [state, input, target, withLogits, fromFeatures, result] {
        std::lock_guard<std::mutex> lock(state->mutex);
        ResNet18& net = state->checked();
        torch::Device device = net->fc->weight.device();
        torch::Tensor x = CheckedInput(input.View(), *state, fromFeatures);
        torch::Tensor labels = CheckedTarget(target.View(), x.size(0), net->fc->options.out_features(), device);
        torch::NoGradGuard noGrad;
        AutocastScope autocast(state->amp, device);
        net->eval();
        torch::Tensor logits = (fromFeatures ? net->fc(x) : net->forward(x)).to(torch::kFloat32);
        *result = Score(logits, labels);
        if (withLogits) result->logits = logits.to(torch::kCPU);
      },
      [result](Napi::Env env) -> Napi::Value { return StepResultToJs(env, *result); },
      {info.This().As<Napi::Object>(), input.object, target.object});
}

// to(device: string) -> Promise<void>
Napi::Value ModelWrap::To(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].ToString();
  auto state = state_;
  return PromiseWorker::Run(
      env,
      [state, name] {
        torch::Device device = ParseDevice(name);
        std::lock_guard<std::mutex> lock(state->mutex);
        state->checked()->to(device);
        // Fixed input sizes: let cuDNN pick the fastest convolution algorithms.
        if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
      },
      [this](Napi::Env env) -> Napi::Value {
        updateMemory(env);
        return env.Undefined();
      },
      {info.This().As<Napi::Object>()});
}

// replaceFc(numClasses, init: 'default' | 'xavier', seed?: number): small, so synchronous.
Napi::Value ModelWrap::ReplaceFc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t numClasses = info[0].As<Napi::Number>().Int64Value();
  bool xavier = info[1].ToString().Utf8Value() == "xavier";
  bool seeded = info.Length() > 2 && info[2].IsNumber();
  withModelNow(env, [&](ResNet18& net) {
    std::lock_guard<std::mutex> rng(RngMutex());
    if (seeded) torch::manual_seed(static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value()));
    bool training = net->is_training();
    net->replaceFc(numClasses, xavier);
    net->fc->train(training);
    return 0;
  });
  updateMemory(env);
  return env.Undefined();
}

// setRequiresGrad(trainable: Record<string, boolean>, bnTrainWhenFrozen: boolean)
Napi::Value ModelWrap::SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object flags = info[0].As<Napi::Object>();
  bool bnTrain = info[1].ToBoolean();
  withModelNow(env, [&](ResNet18& net) {
    for (auto& p : net->named_parameters()) {
      Napi::Value flag = flags.Get(p.key());
      if (flag.IsBoolean()) p.value().set_requires_grad(flag.As<Napi::Boolean>());
    }
    state_->bnTrainWhenFrozen = bnTrain;
    return 0;
  });
  return env.Undefined();
}

// setPrecision(amp: 'none' | 'fp16' | 'bf16', channelsLast: boolean)
Napi::Value ModelWrap::SetPrecision(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string amp = info[0].ToString();
  bool channelsLast = info[1].ToBoolean();
  withModelNow(env, [&](ResNet18& net) {
    state_->amp = AmpFromName(amp);
    state_->scaler = GradScaler();
    if (channelsLast != state_->channelsLast) {
      torch::NoGradGuard noGrad;
      auto format = channelsLast ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
      for (auto& p : net->parameters()) {
        if (p.dim() == 4) p.set_data(p.data().contiguous(format));
      }
      state_->channelsLast = channelsLast;
    }
    return 0;
  });
  return env.Undefined();
}

// The fp16 loss scale (GradScaler.get_scale()).
Napi::Value ModelWrap::LossScale(const Napi::CallbackInfo& info) {
  return withModelNow(info.Env(),
                      [&](ResNet18&) { return Napi::Number::New(info.Env(), state_->scaler.currentScale()); });
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    std::unique_lock<std::mutex> lock(state_->mutex, std::try_to_lock);
    if (!lock.owns_lock()) throw UserError("the model is busy with another operation; await it first");
    state_->net = nullptr;  // a second dispose() is a no-op
  });
  memory_.set(env, 0);
  return env.Undefined();
}

}  // namespace finetorch
