// Initialisation drawn from torch's global generator, as `torch.manual_seed(seed)` followed by a
// constructor draws it in Python.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>

namespace finetorch {

// Runs init with the global generator seeded (when a seed is given); one seeded initialisation at a
// time, process-wide, so two models built at once do not interleave their draws.
void Seeded(std::optional<uint64_t> seed, const std::function<void()>& init);

}  // namespace finetorch
