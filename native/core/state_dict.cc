#include "core/state_dict.h"

#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace finetorch {
namespace {

std::string ShapeText(c10::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string QuotedList(const std::vector<std::string>& keys) {
  std::string joined;
  for (size_t i = 0; i < keys.size(); ++i) joined += (i ? ", \"" : "\"") + keys[i] + "\"";
  return joined;
}

}  // namespace

std::vector<NamedTensor> StateEntries(torch::nn::Module& net) {
  std::vector<NamedTensor> entries;
  for (const auto& module : net.named_modules()) {
    std::string prefix = module.key().empty() ? "" : module.key() + ".";
    for (const auto& p : module.value()->named_parameters(/*recurse=*/false)) {
      entries.emplace_back(prefix + p.key(), p.value());
    }
    for (const auto& b : module.value()->named_buffers(/*recurse=*/false)) {
      entries.emplace_back(prefix + b.key(), b.value());
    }
  }
  return entries;
}

void TensorSource::copyInto(const std::vector<torch::Tensor>& targets) const {
  torch::NoGradGuard noGrad;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (targets[i].defined()) targets[i].copy_(tensors_[i].second);
  }
}

void FileSource::copyInto(const std::vector<torch::Tensor>& targets) const {
  std::vector<FileRead> reads;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (targets[i].defined()) reads.push_back({tensors_[i].first, &tensors_[i].second, targets[i]});
  }
  ReadFileTensors(file_, reads);
}

LoadReport LoadState(torch::nn::Module& net, const std::string& modelName, const StateSource& source, bool strict) {
  LoadReport report;
  const std::vector<NamedTensor> entries = StateEntries(net);
  std::unordered_map<std::string, torch::Tensor> own(entries.begin(), entries.end());
  std::unordered_set<std::string> given;
  std::vector<torch::Tensor> targets(source.size());
  std::vector<std::string> mismatched;
  for (size_t i = 0; i < source.size(); ++i) {
    const std::string& name = source.name(i);
    given.insert(name);
    auto found = own.find(name);
    if (found == own.end()) {
      report.unexpected.push_back(name);
    } else if (source.shape(i) != found->second.sizes()) {
      mismatched.push_back("size mismatch for " + name + ": copying a param with shape " + ShapeText(source.shape(i)) +
                           ", the shape in current model is " + ShapeText(found->second.sizes()));
    } else {
      targets[i] = found->second;
    }
  }
  // Files from before BatchNorm counted its batches (e.g. resnet18-5c106cde.pth) lack
  // num_batches_tracked; PyTorch starts those counters at 0 and so do we.
  std::vector<torch::Tensor> resetCounters;
  for (const auto& [name, tensor] : entries) {
    if (given.count(name)) continue;
    if (EndsWith(name, ".num_batches_tracked")) {
      resetCounters.push_back(tensor);
    } else {
      report.missing.push_back(name);
    }
  }
  if (!mismatched.empty() || (strict && (!report.missing.empty() || !report.unexpected.empty()))) {
    std::string message = "Error(s) in loading state_dict for " + modelName + ":";
    if (strict && !report.missing.empty()) message += "\n  Missing key(s) in state_dict: " + QuotedList(report.missing);
    if (strict && !report.unexpected.empty()) {
      message += "\n  Unexpected key(s) in state_dict: " + QuotedList(report.unexpected);
    }
    for (const auto& m : mismatched) message += "\n  " + m;
    throw Error(ErrorCode::kStateDict, message);
  }
  source.copyInto(targets);
  torch::NoGradGuard noGrad;
  for (auto& counter : resetCounters) counter.zero_();
  return report;
}

}  // namespace finetorch
