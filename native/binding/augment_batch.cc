#include "binding/augment_batch.h"

#include <memory>
#include <optional>
#include <vector>

#include "binding/async_call.h"
#include "binding/host_tensor.h"
#include "binding/options.h"
#include "core/augment/erasing.h"
#include "core/augment/mixup.h"

namespace finetorch {

Napi::Value MixBatch(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "mixBatch");
  torch::Tensor input = ReadHostTensor(call, o.value("input"), "input");
  torch::Tensor labels = ReadHostTensor(call, o.value("labels"), "labels");
  int64_t classes = o.integer("numClasses");
  double lam = o.number("lam");
  double smoothing = o.number("labelSmoothing");
  std::optional<MixBox> box;
  if (!o.value("box").IsNull()) {
    Options b(o.value("box"), "mixBatch box");
    box = MixBox{b.integer("top"), b.integer("bottom"), b.integer("left"), b.integer("right")};
  }
  auto targets = std::make_shared<torch::Tensor>();
  return call.run(
      [input, labels, classes, lam, smoothing, box, targets]() mutable {
        if (labels.dim() != 1 || labels.size(0) != input.size(0)) {
          throw Error(ErrorCode::kBadInput, "mixup: labels must hold one class index per image");
        }
        MixImages(input, lam, box);
        *targets = MixTargets(labels, classes, lam, smoothing);
      },
      [targets](Napi::Env env) -> Napi::Value { return ToHostTensor(env, *targets); });
}

Napi::Value EraseBatch(const Napi::CallbackInfo& info) {
  AsyncCall call(info.Env());
  Options o(info[0], "eraseBatch");
  torch::Tensor input = ReadHostTensor(call, o.value("input"), "input");
  EraseFill fill = o.choice<EraseFill>(
      "fill", {{"const", EraseFill::kConst}, {"rand", EraseFill::kPerChannel}, {"pixel", EraseFill::kPerPixel}});
  Napi::Array list = o.array("boxes");
  std::vector<EraseBox> boxes;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Options b(list.Get(i), "eraseBatch box");
    boxes.push_back(EraseBox{b.integer("image"), b.integer("top"), b.integer("left"), b.integer("height"),
                             b.integer("width"), static_cast<uint64_t>(b.integer("seed"))});
  }
  return call.run([input, boxes, fill]() mutable { EraseBoxes(input, boxes, fill); },
                  [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

}  // namespace finetorch
