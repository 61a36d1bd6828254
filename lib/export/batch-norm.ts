// Folding an eval-mode BatchNorm2d into the bias-free Conv2d before it: BatchNorm then is a
// per-channel affine map, y = (x - mean) * gamma / sqrt(var + eps) + beta, and a convolution's
// output channel c scaled by s[c] is the convolution with filter c scaled by s[c]. So
// W'[c] = W[c] * s[c] and b'[c] = beta[c] - mean[c] * s[c], with s = gamma / sqrt(var + eps),
// computed in float64 and rounded once to float32. The weights are scaled in place: the exporter
// works on its own copy of the state dict, and a second copy of a 500 MB model would be waste.
import { HostTensor } from '../base/tensor';

export interface BatchNormState {
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  eps: number;
}

/** Scales `convWeight` (in place) and returns the bias that together compute conv then `bn`. */
export function foldBatchNorm(convWeight: HostTensor<'float32'>, bn: BatchNormState): HostTensor<'float32'> {
  const channels = convWeight.shape[0];
  const perChannel = convWeight.data.length / channels;
  const weight = convWeight.data;
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const scale = bn.weight[c] / Math.sqrt(bn.runningVar[c] + bn.eps);
    bias[c] = bn.bias[c] - bn.runningMean[c] * scale;
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) weight[i] *= scale;
  }
  return { dtype: 'float32', shape: [channels], data: bias };
}
