// The dtypes a model's forward pass and loss can autocast to, as a list the CLI offers without
// loading LibTorch.

/** torch.autocast's dtype: none (fp32 throughout), fp16 (CUDA only, with GradScaler's loss scaling) or bf16 (CUDA or the CPU). */
export const AMP_DTYPES = ['none', 'fp16', 'bf16'] as const;
export type Amp = (typeof AMP_DTYPES)[number];
