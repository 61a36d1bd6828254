// The ONNX operator sets finetorch writes, and the IR version each needs. From 11, the operator set
// the runtimes of the last years all read (TensorRT, ONNX Runtime, onnxruntime-web), to 26, the
// newest that ONNX Runtime 1.30 loads; every one is tested through onnx.checker and ONNX Runtime.
import { rangeError } from '../base/errors';

export const MIN_OPSET = 11;
export const MAX_OPSET = 26;
export const DEFAULT_OPSET = 17;

/**
 * The lowest IR version that admits operator set `opset`: the IR version of the first onnx release
 * that shipped it (onnx.helper.VERSION_TABLE). A file with a newer IR version than needed would
 * shut out older runtimes for nothing.
 */
const IR_VERSIONS: Record<number, number> = {
  11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11, 24: 12, 25: 13, 26: 13,
};

export function irVersionFor(opset: number): number {
  const ir = IR_VERSIONS[opset];
  if (ir === undefined) throw rangeError('ERR_FINETORCH_INVALID_ARG', `ONNX operator set ${opset} is outside ${MIN_OPSET}..${MAX_OPSET}`);
  return ir;
}
