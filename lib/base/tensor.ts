// HostTensor: a tensor that lives in JavaScript memory, the currency between .pth files, data
// loaders and the native model. Elements are laid out contiguously in row-major (C) order.
import { describe } from './check';
import { rangeError, typeError } from './errors';

export type DType =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

// float16 and bfloat16 have no JS typed array: their raw 16-bit patterns are kept in a Uint16Array.
export interface DTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type TypedArray = DTypeMap[DType];

export interface HostTensor<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: DTypeMap[D];
}

/** A tensor left in its file (a .pth read by locatePth): the native side reads it from there. Its the dtype, shape, strides (in elements) and the byte position of its first element. */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  stride: number[];
  position: number;
}

type TypedArrayConstructor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  new (length: number): TypedArray;
  BYTES_PER_ELEMENT: number;
};

const ARRAY_TYPES: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as unknown as Record<DType, TypedArrayConstructor>;

export const DTYPES = Object.keys(ARRAY_TYPES) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ARRAY_TYPES, value);
}

export function elementSize(dtype: DType): number {
  return ARRAY_TYPES[dtype].BYTES_PER_ELEMENT;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A zero-filled tensor. */
export function zeros<D extends DType>(dtype: D, shape: number[]): HostTensor<D> {
  return { dtype, shape: [...shape], data: new ARRAY_TYPES[dtype](numel(shape)) as DTypeMap[D] };
}

/**
 * A typed-array view of `byteLength` bytes at `byteOffset` in `buffer`; copies only when the
 * offset is not a multiple of the element size (typed arrays require alignment).
 */
export function typedArrayFrom<D extends DType>(
  dtype: D, buffer: ArrayBufferLike, byteOffset: number, length: number,
): DTypeMap[D] {
  const Ctor = ARRAY_TYPES[dtype];
  if (byteOffset % Ctor.BYTES_PER_ELEMENT === 0) {
    return new Ctor(buffer, byteOffset, length) as DTypeMap[D];
  }
  const copy = new Uint8Array(length * Ctor.BYTES_PER_ELEMENT);
  copy.set(new Uint8Array(buffer, byteOffset, copy.length));
  return new Ctor(copy.buffer, 0, length) as DTypeMap[D];
}

/** Throws a TypeError/RangeError (code ERR_FINETORCH_INVALID_ARG) unless dtype, shape and data agree. */
export function checkHostTensor(t: HostTensor, what = 'tensor'): void {
  const fail = (make: typeof typeError, message: string) => make('ERR_FINETORCH_INVALID_ARG', `${what}: ${message}`);
  if (typeof t !== 'object' || t === null) throw fail(typeError, `expected a HostTensor { dtype, shape, data }, got ${describe(t)}`);
  if (!isDType(t.dtype)) throw fail(typeError, `unknown dtype ${describe(t.dtype)}`);
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw fail(typeError, `shape must be an array of non-negative integers, got ${describe(t.shape)}`);
  }
  const Ctor = ARRAY_TYPES[t.dtype];
  if (!(t.data instanceof (Ctor as unknown as new () => TypedArray))) {
    throw fail(typeError, `data for dtype ${t.dtype} must be a ${Ctor.name}, got ${describe(t.data)}`);
  }
  if (t.data.length !== numel(t.shape)) {
    throw fail(rangeError, `shape [${t.shape.join(', ')}] holds ${numel(t.shape)} elements but data has ${t.data.length}`);
  }
}
