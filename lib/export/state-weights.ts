// The weights an architecture's graph reads from its model's state dict, checked as they are taken:
// a key the state dict lacks, or a tensor that is not float32, is a coded error naming the key
// rather than a graph the runtimes would refuse.
import { FinetorchError } from '../base/errors';
import { HostTensor } from '../base/tensor';

/** `state`'s float32 tensor under `key`. */
export function float32Weight(state: ReadonlyMap<string, HostTensor>, key: string): HostTensor<'float32'> {
  const t = state.get(key);
  if (!t) throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `ONNX export: the state dict has no '${key}'`);
  if (t.dtype !== 'float32') throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `ONNX export: '${key}' is ${t.dtype}, not float32`);
  return t as HostTensor<'float32'>;
}
