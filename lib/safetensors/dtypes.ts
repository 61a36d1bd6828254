// The element types of the safetensors format (huggingface/safetensors, safetensors/src/tensor.rs,
// enum Dtype): every name the format defines with its width in bits, in the format's order of
// increasing alignment, and the ones finetorch holds as HostTensors.
import { DType } from '../base/tensor';
import { quote } from './json';
import { codecError } from './error';

/** The format's dtype names, in its order (writers lay tensors out from the last to the first). */
export const SAFETENSORS_DTYPES = [
  'BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ',
  'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64',
] as const;
export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

const BITS: Record<SafetensorsDType, number> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};

/** The dtypes finetorch reads and writes, as torch names them (safetensors.torch's mapping). */
const TO_DTYPE: Partial<Record<SafetensorsDType, DType>> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16',
  I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

const FROM_DTYPE = Object.fromEntries(Object.entries(TO_DTYPE).map(([name, dtype]) => [dtype, name])) as Record<DType, SafetensorsDType>;

export function isSafetensorsDType(name: string): name is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(BITS, name);
}

export function bitsOf(dtype: SafetensorsDType): number {
  return BITS[dtype];
}

/** finetorch's dtype for a safetensors one, if it holds that one. */
export function hostDTypeOf(dtype: SafetensorsDType): DType | undefined {
  return TO_DTYPE[dtype];
}

/** finetorch's dtype for a safetensors one; a clear error for the format's others (F8, U16, C64, ...). */
export function hostDType(dtype: SafetensorsDType, name: string): DType {
  const found = TO_DTYPE[dtype];
  if (found) return found;
  throw codecError(`tensor ${quote(name)} has dtype ${dtype}, which finetorch does not hold ` +
    `(it reads ${Object.keys(TO_DTYPE).join(', ')}); convert it in Python first, e.g. tensor.to(torch.float32)`);
}

export function safetensorsDType(dtype: DType): SafetensorsDType {
  return FROM_DTYPE[dtype];
}

/** The format's order of alignment: writers put the most aligned tensors first. */
export function alignmentRank(dtype: SafetensorsDType): number {
  return SAFETENSORS_DTYPES.indexOf(dtype);
}
