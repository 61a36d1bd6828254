// MAE's per-sample random masking (models_mae.py random_masking): each sample's patches are
// shuffled by sorting its noise, ascending; the first L * (1 - ratio) are kept (the encoder sees
// only those), the rest are masked.
#pragma once
#include <torch/torch.h>

namespace finetorch {

struct Masking {
  torch::Tensor visible;     // [N, keep, D]: the kept tokens, in shuffled order
  torch::Tensor mask;        // [N, L] float: 0 kept, 1 masked, in the patches' own order
  torch::Tensor idsRestore;  // [N, L] int64: where each patch went in the shuffle (argsort of the shuffle)
};

// How many of `length` patches a ratio keeps: int(L * (1 - ratio)), as MAE truncates it.
int64_t KeptPatches(int64_t length, double maskRatio);

// MAE's noise, reproducibly: torch.rand(N, L, generator=torch.Generator().manual_seed(seed)).
torch::Tensor MaskingNoise(int64_t batch, int64_t length, uint64_t seed);

// tokens [N, L, D], noise [N, L] (uniform [0, 1) in MAE; any values sort the same way).
Masking RandomMasking(const torch::Tensor& tokens, const torch::Tensor& noise, double maskRatio);

}  // namespace finetorch
