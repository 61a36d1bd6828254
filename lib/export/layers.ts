// Layers more than one architecture's graph writes the same way, over the op builder and the
// state dict's weights.
import { HostTensor } from '../base/tensor';
import { GraphBuilder, attr } from './graph';
import { float32Weight } from './state-weights';

/** nn.Linear `name` on [N, in] rows (a classifier head): one Gemm by the weight as stored, [out, in]. */
export function gemmLinear(g: GraphBuilder, state: ReadonlyMap<string, HostTensor>, name: string, x: string, output?: string): string {
  const inputs = [g.initializer(`${name}.weight`, float32Weight(state, `${name}.weight`)), g.initializer(`${name}.bias`, float32Weight(state, `${name}.bias`))];
  return g.op('Gemm', [x, ...inputs], { alpha: attr.float(1), beta: attr.float(1), transB: attr.int(1) }, { name, output });
}
