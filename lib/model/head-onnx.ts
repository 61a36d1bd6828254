// The classifier head as ONNX nodes, the same for every architecture's graph: a Linear's Gemm, or
// MAE's linear-probe head (main_linprobe.py: Sequential(BatchNorm1d(features, affine=False,
// eps=1e-6), Linear)) in eval mode, its BatchNorm folded into the Gemm (lib/export/batch-norm.ts)
// or kept as a BatchNormalization node, with scale 1 and shift 0 since the BatchNorm has neither.
import type { HeadKind } from './model';
import { HostTensor } from '../base/tensor';
import { foldBatchNormIntoLinear } from '../export/batch-norm';
import { GraphBuilder, attr } from '../export/graph';
import { gemmLinear } from '../export/layers';
import { float32Weight } from '../export/state-weights';

/** main_linprobe.py's BatchNorm1d eps. */
const MAE_PROBE_EPS = 1e-6;

/**
 * The head `name` of kind `head` on the pooled [N, features] rows `x`, its output named `output`;
 * a probe head's BatchNorm is folded into `state`'s Linear weights, in place, when `foldBatchNorm`.
 */
export function headGraph(
  g: GraphBuilder, state: ReadonlyMap<string, HostTensor>, name: string, head: HeadKind, x: string, options: { foldBatchNorm: boolean; output: string },
): string {
  if (head === 'linear') return gemmLinear(g, state, name, x, options.output);
  const norm = `${name}.0`;
  const linear = `${name}.1`;
  const runningMean = float32Weight(state, `${norm}.running_mean`);
  const runningVar = float32Weight(state, `${norm}.running_var`);
  if (options.foldBatchNorm) {
    const bn = { runningMean: runningMean.data, runningVar: runningVar.data, eps: MAE_PROBE_EPS };
    foldBatchNormIntoLinear(float32Weight(state, `${linear}.weight`), float32Weight(state, `${linear}.bias`), bn);
    return gemmLinear(g, state, linear, x, options.output);
  }
  const filled = (value: number): HostTensor<'float32'> => ({ dtype: 'float32', shape: runningMean.shape, data: new Float32Array(runningMean.data.length).fill(value) });
  const inputs = [
    g.initializer(`${norm}.scale_ones`, filled(1)), g.initializer(`${norm}.shift_zeros`, filled(0)),
    g.initializer(`${norm}.running_mean`, runningMean), g.initializer(`${norm}.running_var`, runningVar),
  ];
  const normalised = g.op('BatchNormalization', [x, ...inputs], { epsilon: attr.float(MAE_PROBE_EPS) }, { name: norm });
  return gemmLinear(g, state, linear, normalised, options.output);
}
