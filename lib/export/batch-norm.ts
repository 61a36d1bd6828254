// Folding an eval-mode BatchNorm into the layer beside it. BatchNorm then is a per-channel affine
// map, y = x * s + t with s = gamma / sqrt(var + eps) and t = beta - mean * s (gamma 1 and beta 0
// for BatchNorm(affine=False), MAE's probe head). Into the bias-free Conv2d before it: output
// channel c scaled by s[c] is the convolution with filter c scaled by s[c], so W'[c] = W[c] * s[c]
// and b'[c] = t[c]. Into the Linear after it: W (x * s + t) + b = (W diag(s)) x + (W t + b), so
// W'[o][i] = W[o][i] * s[i] and b'[o] = b[o] + sum_i W[o][i] t[i]. s, t and every sum are float64,
// each result rounded once to float32. The weights are changed in place: the exporter works on its
// own copy of the state dict, and a second copy of a 500 MB model would be waste.
import { FinetorchError } from '../base/errors';
import { HostTensor } from '../base/tensor';

export interface BatchNormState {
  /** gamma; absent for BatchNorm(affine=False), whose scale is 1. */
  weight?: Float32Array;
  /** beta; absent for BatchNorm(affine=False), whose shift is 0. */
  bias?: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  eps: number;
}

/** `bn` as y = x * scale + shift, per channel, in float64. */
function affineMap(bn: BatchNormState): { scale: Float64Array; shift: Float64Array } {
  const channels = bn.runningMean.length;
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (bn.weight?.[c] ?? 1) / Math.sqrt(bn.runningVar[c] + bn.eps);
    shift[c] = (bn.bias?.[c] ?? 0) - bn.runningMean[c] * scale[c];
  }
  return { scale, shift };
}

/** Scales `convWeight` (in place) and returns the bias that together compute conv then `bn`. */
export function foldBatchNorm(convWeight: HostTensor<'float32'>, bn: BatchNormState): HostTensor<'float32'> {
  const { scale, shift } = affineMap(bn);
  const channels = convWeight.shape[0];
  const perChannel = convWeight.data.length / channels;
  const weight = convWeight.data;
  for (let c = 0; c < channels; c++) {
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) weight[i] *= scale[c];
  }
  return { dtype: 'float32', shape: [channels], data: Float32Array.from(shift) };
}

/** Changes the Linear's `weight` ([out, in]) and `bias` in place so that they compute `bn` then the Linear. */
export function foldBatchNormIntoLinear(weight: HostTensor<'float32'>, bias: HostTensor<'float32'>, bn: BatchNormState): void {
  const [outputs, inputs] = weight.shape;
  if (bn.runningMean.length !== inputs || bias.data.length !== outputs) {
    throw new FinetorchError('ERR_FINETORCH_ONNX', `ONNX export: a BatchNorm of ${bn.runningMean.length} features before a Linear ` +
      `[${weight.shape.join(', ')}] with ${bias.data.length} biases`);
  }
  const { scale, shift } = affineMap(bn);
  const w = weight.data;
  for (let o = 0; o < outputs; o++) {
    let sum = bias.data[o];
    for (let i = 0; i < inputs; i++) {
      sum += w[o * inputs + i] * shift[i];
      w[o * inputs + i] *= scale[i];
    }
    bias.data[o] = sum;
  }
}
