#include "binding/process_group.h"

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "binding/async_call.h"
#include "binding/errors.h"
#include "binding/model_wrap.h"
#include "binding/options.h"
#include "core/data_parallel.h"
#include "core/dist.h"

namespace finetorch {
namespace {

using GroupHandle = std::shared_ptr<dist::Group>;

Napi::Value GroupToJs(Napi::Env env, GroupHandle group) {
  return Napi::External<GroupHandle>::New(env, new GroupHandle(std::move(group)),
                                          [](Napi::Env, GroupHandle* g) { delete g; });
}

GroupHandle ReadGroup(const Options& o) {
  Napi::Value value = o.value("group");
  if (!value.IsExternal()) throw o.fail("group", "a process group from distInit");
  return *value.As<Napi::External<GroupHandle>>().Data();
}

// distBackends() -> string[]: what this build can run.
Napi::Value Backends(const Napi::CallbackInfo& info) {
  auto names = dist::AvailableBackends();
  Napi::Array out = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
  return out;
}

// distInit({ backend, rank, worldSize, masterAddr, masterPort, agentStore, storePrefix,
//            startupTimeoutMs, timeoutMs, interfaces, deviceIndex }) -> Promise<group>
Napi::Value Init(const Napi::CallbackInfo& info) {
  Options o(info[0], "distInit");
  dist::GroupOptions g;
  g.backend = o.string("backend");
  g.rank = static_cast<int>(o.integer("rank"));
  g.worldSize = static_cast<int>(o.integer("worldSize"));
  g.masterAddr = o.string("masterAddr");
  g.masterPort = static_cast<int>(o.integer("masterPort"));
  g.agentStore = o.boolean("agentStore");
  g.storePrefix = o.string("storePrefix");
  g.startupTimeout = std::chrono::milliseconds(o.integer("startupTimeoutMs"));
  g.timeout = std::chrono::milliseconds(o.integer("timeoutMs"));
  Napi::Array interfaces = o.array("interfaces");
  for (uint32_t i = 0; i < interfaces.Length(); ++i) g.interfaces.push_back(interfaces.Get(i).As<Napi::String>());
  g.deviceIndex = static_cast<int>(o.integer("deviceIndex"));
  auto group = std::make_shared<GroupHandle>();
  AsyncCall call(info.Env());
  return call.run([g, group] { *group = dist::Group::Init(g); },
                  [group](Napi::Env env) { return GroupToJs(env, *group); });
}

// distBarrier({ group }) -> Promise<void>
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Options o(info[0], "distBarrier");
  GroupHandle group = ReadGroup(o);
  AsyncCall call(info.Env());
  return call.run([group] { group->barrier(); }, [](Napi::Env env) { return env.Undefined(); });
}

// distAllReduce({ group, values: Float32Array | Float64Array, op: 'sum' | 'min' | 'max' }) -> Promise<void>,
// in place.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Options o(info[0], "distAllReduce");
  GroupHandle group = ReadGroup(o);
  Napi::Value values = o.value("values");
  if (!values.IsTypedArray()) throw o.fail("values", "a Float32Array or a Float64Array");
  Napi::TypedArray array = values.As<Napi::TypedArray>();
  at::ScalarType dtype;
  switch (array.TypedArrayType()) {
    case napi_float32_array:
      dtype = at::kFloat;
      break;
    case napi_float64_array:
      dtype = at::kDouble;
      break;
    default:
      throw o.fail("values", "a Float32Array or a Float64Array");
  }
  auto* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  at::Tensor tensor =
      at::from_blob(data, {static_cast<int64_t>(array.ElementLength())}, at::TensorOptions().dtype(dtype));
  dist::ReduceOp op = o.choice<dist::ReduceOp>(
      "op", {{"sum", dist::ReduceOp::kSum}, {"min", dist::ReduceOp::kMin}, {"max", dist::ReduceOp::kMax}});
  AsyncCall call(info.Env());
  call.keep(array);
  return call.run([group, tensor, op]() mutable { group->allReduce(tensor, op); },
                  [](Napi::Env env) { return env.Undefined(); });
}

// distDestroy({ group }) -> Promise<void>
Napi::Value Destroy(const Napi::CallbackInfo& info) {
  Options o(info[0], "distDestroy");
  GroupHandle group = ReadGroup(o);
  AsyncCall call(info.Env());
  return call.run([group] { group->destroy(); }, [](Napi::Env env) { return env.Undefined(); });
}

// samplerPermutation({ n, seed }) -> Promise<Int32Array>: torch.randperm(n, generator seeded with seed).
Napi::Value SamplerPermutation(const Napi::CallbackInfo& info) {
  Options o(info[0], "samplerPermutation");
  int64_t n = o.integer("n");
  auto seed = static_cast<uint64_t>(o.integer("seed"));
  auto order = std::make_shared<at::Tensor>();
  AsyncCall call(info.Env());
  return call.run([n, seed, order] { *order = dist::SamplerPermutation(n, seed).to(at::kInt); },
                  [order](Napi::Env env) -> Napi::Value {
                    auto out = Napi::Int32Array::New(env, static_cast<size_t>(order->numel()));
                    std::memcpy(out.Data(), order->data_ptr<int32_t>(), order->numel() * sizeof(int32_t));
                    return out;
                  });
}

dist::DataParallel& Wrapper(Model& model) {
  auto* wrapper = dynamic_cast<dist::DataParallel*>(model.hooks());
  if (!wrapper) throw Error(ErrorCode::kDist, "the model is not data-parallel: call net.distributed() first");
  return *wrapper;
}

// distWrapModel({ model, group, broadcastBuffers, bucketCapMB }) -> Promise<void>: the model
// becomes data-parallel (DDP's constructor: rank 0's weights everywhere), queued on the model.
Napi::Value WrapModel(const Napi::CallbackInfo& info) {
  Options o(info[0], "distWrapModel");
  ModelWrap* model = ModelWrap::Unwrap(o.value("model"));
  GroupHandle group = ReadGroup(o);
  dist::DataParallelOptions options;
  options.broadcastBuffers = o.boolean("broadcastBuffers");
  options.bucketCapBytes = static_cast<int64_t>(o.number("bucketCapMB") * 1024 * 1024);
  AsyncCall call(info.Env());
  return model->Run(call, [group, options](Model& m) -> AsyncCall::Result {
    m.setHooks(nullptr);  // a model wrapped again drops its earlier hooks first
    m.setHooks(std::make_shared<dist::DataParallel>(group, m.net(), options));
    return [](Napi::Env env) { return env.Undefined(); };
  });
}

// distSyncBuffers({ model }) -> Promise<void>: rank 0's buffers on every rank.
Napi::Value SyncBuffers(const Napi::CallbackInfo& info) {
  Options o(info[0], "distSyncBuffers");
  ModelWrap* model = ModelWrap::Unwrap(o.value("model"));
  AsyncCall call(info.Env());
  return model->Run(call, [](Model& m) -> AsyncCall::Result {
    Wrapper(m).broadcastBuffers();
    return [](Napi::Env env) { return env.Undefined(); };
  });
}

// distBuckets({ model }) -> Promise<number[][]>: the gradient buckets, parameter indices in DDP's order.
Napi::Value Buckets(const Napi::CallbackInfo& info) {
  Options o(info[0], "distBuckets");
  ModelWrap* model = ModelWrap::Unwrap(o.value("model"));
  AsyncCall call(info.Env());
  return model->Run(call, [](Model& m) -> AsyncCall::Result {
    auto buckets = std::make_shared<std::vector<std::vector<size_t>>>(Wrapper(m).bucketIndices());
    return [buckets](Napi::Env env) -> Napi::Value {
      Napi::Array out = Napi::Array::New(env, buckets->size());
      for (size_t b = 0; b < buckets->size(); ++b) {
        Napi::Array indices = Napi::Array::New(env, (*buckets)[b].size());
        for (size_t i = 0; i < (*buckets)[b].size(); ++i) {
          indices.Set(static_cast<uint32_t>(i), static_cast<double>((*buckets)[b][i]));
        }
        out.Set(static_cast<uint32_t>(b), indices);
      }
      return out;
    };
  });
}

}  // namespace

void RegisterDist(Napi::Env env, Napi::Object exports) {
  exports.Set("distBackends", Napi::Function::New<Backends>(env, "distBackends"));
  exports.Set("distInit", Napi::Function::New<Init>(env, "distInit"));
  exports.Set("distBarrier", Napi::Function::New<Barrier>(env, "distBarrier"));
  exports.Set("distAllReduce", Napi::Function::New<AllReduce>(env, "distAllReduce"));
  exports.Set("distDestroy", Napi::Function::New<Destroy>(env, "distDestroy"));
  exports.Set("samplerPermutation", Napi::Function::New<SamplerPermutation>(env, "samplerPermutation"));
  exports.Set("distWrapModel", Napi::Function::New<WrapModel>(env, "distWrapModel"));
  exports.Set("distSyncBuffers", Napi::Function::New<SyncBuffers>(env, "distSyncBuffers"));
  exports.Set("distBuckets", Napi::Function::New<Buckets>(env, "distBuckets"));
}

}  // namespace finetorch
