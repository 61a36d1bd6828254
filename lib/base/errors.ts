// Every error finetorch throws carries a stable `code` (as Node's own errors do), so programs test
// `err.code` rather than message text. Argument mistakes are TypeError/RangeError (lib/base/check.ts);
// everything else is a FinetorchError or one of its subclasses. This module is the one place that
// constructs an Error, TypeError or RangeError (the lint forbids it elsewhere in lib/): everything
// else throws a FinetorchError or asks typeError/rangeError/nodeError here.

export const ERROR_CODES = [
  /** A bad argument value or type, caught by finetorch's own validation (lib/base/check.ts). */
  'ERR_FINETORCH_INVALID_ARG',
  /** An option key the function does not know (`batch_size` for `batchSize`). */
  'ERR_FINETORCH_UNKNOWN_OPTION',
  /** A tensor handed to the native side that does not fit: shape, dtype, a label out of range. */
  'ERR_FINETORCH_BAD_INPUT',
  /** A training step whose loss was NaN or infinite; nothing was changed by it. */
  'ERR_FINETORCH_NONFINITE_LOSS',
  /** A training step whose loss passed the loop's `maxLoss`. */
  'ERR_FINETORCH_LOSS_ABOVE_MAX',
  /** A native object used while another call on it runs (the queue normally prevents this). */
  'ERR_FINETORCH_BUSY',
  /** A model or optimizer used after dispose(). */
  'ERR_FINETORCH_DISPOSED',
  /** A state dict whose keys or shapes do not fit the model. */
  'ERR_FINETORCH_STATE_DICT',
  /** A .pth file that cannot be read: corrupt, hostile, or over its budget. */
  'ERR_FINETORCH_PTH',
  /** A .safetensors file that cannot be read or written: corrupt, hostile, over its budget, or a dtype finetorch lacks. */
  'ERR_FINETORCH_SAFETENSORS',
  /** A data set that cannot be used as given. */
  'ERR_FINETORCH_DATASET',
  /** An image that cannot be decoded. */
  'ERR_FINETORCH_IMAGE_DECODE',
  /** A device that does not exist or a feature this device cannot run (fp16 AMP on the CPU). */
  'ERR_FINETORCH_DEVICE',
  /** A feature this build of the addon lacks (no CUDA, no c10d backend, no libjpeg-turbo). */
  'ERR_FINETORCH_UNSUPPORTED',
  /** LibTorch could not allocate memory. */
  'ERR_FINETORCH_OUT_OF_MEMORY',
  /** Distributed training: a peer missing, gone, or disagreeing. */
  'ERR_FINETORCH_DIST',
  /** Any other failure of the native side: inside LibTorch, or an addon that cannot be loaded. */
  'ERR_FINETORCH_NATIVE',
  /** A download whose server could not be reached (no network, DNS, refused, timed out). */
  'ERR_FINETORCH_NETWORK',
  /** A download answered with an HTTP error status (or too many redirects). */
  'ERR_FINETORCH_HTTP',
  /** A download cut before its end; the bytes received are kept for the next try to resume. */
  'ERR_FINETORCH_DOWNLOAD_INTERRUPTED',
  /** A downloaded file whose SHA-256 does not start with the prefix its name carries, or does not match the Hub's ETag. */
  'ERR_FINETORCH_HASH_MISMATCH',
  /**
   * A Hugging Face Hub repo that cannot be used: an answer without the Hub's X-Repo-Commit or ETag
   * headers, a config.json that is not timm's, or an architecture finetorch lacks.
   */
  'ERR_FINETORCH_HUB',
  /** An ONNX file that cannot be written (a graph that does not hold together, over protobuf's 2 GiB) or read. */
  'ERR_FINETORCH_ONNX',
  /** A broken invariant inside finetorch: a bug, to be reported with the message. */
  'ERR_FINETORCH_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The base of finetorch's own errors. */
export class FinetorchError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FinetorchError';
    this.code = code;
  }
}

/** An error about one file: its message starts with the file, which `file` holds too. */
export class FileError extends FinetorchError {
  constructor(code: ErrorCode, readonly file: string, detail: string, options?: ErrorOptions) {
    super(code, `${file}: ${detail}`, options);
  }
}

/** Whether `err` is an error carrying `code` (finetorch's, or a native one passed through). */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === code;
}

/**
 * @internal The codes the C++ core raises (native/core/error.h): every other code is raised by the
 * TypeScript side alone. test/pure/error-codes.test.ts holds the two lists to each other.
 */
export const NATIVE_CODES: readonly ErrorCode[] = [
  'ERR_FINETORCH_BAD_INPUT', 'ERR_FINETORCH_NONFINITE_LOSS', 'ERR_FINETORCH_BUSY', 'ERR_FINETORCH_DISPOSED', 'ERR_FINETORCH_STATE_DICT',
  'ERR_FINETORCH_PTH', 'ERR_FINETORCH_IMAGE_DECODE', 'ERR_FINETORCH_DEVICE', 'ERR_FINETORCH_UNSUPPORTED', 'ERR_FINETORCH_OUT_OF_MEMORY',
  'ERR_FINETORCH_DIST', 'ERR_FINETORCH_NATIVE',
];

/** @internal A TypeError with a code: an argument of the wrong type. */
export function typeError(code: ErrorCode, message: string, options?: ErrorOptions): TypeError & { code: ErrorCode } {
  return Object.assign(new TypeError(message, options), { code });
}

/** @internal A RangeError with a code: an argument of the right type but outside what it may be. */
export function rangeError(code: ErrorCode, message: string, options?: ErrorOptions): RangeError & { code: ErrorCode } {
  return Object.assign(new RangeError(message, options), { code });
}

/**
 * @internal An error shaped as Node's own system errors (code 'ETIMEDOUT', 'EACCES'), for the places
 * that hand one to a Node API or pass one through under its system code.
 */
export function nodeError(code: string, message: string, options?: ErrorOptions): NodeJS.ErrnoException {
  return Object.assign(new Error(message, options), { code });
}

/** @internal A broken invariant: a bug in finetorch, never the user's input. */
export function internalError(message: string): FinetorchError {
  return new FinetorchError('ERR_FINETORCH_INTERNAL', message);
}

/**
 * Runs `work`; a failure becomes `wrap(message, cause)` unless it is already an instance of
 * `Kind` (the file codecs: every error names the file it concerns).
 */
export async function rethrowAs<T, E extends Error>(
  Kind: abstract new (...args: never[]) => E, wrap: (detail: string, cause: unknown) => E, work: () => T | Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof Kind) throw err;
    throw wrap(err instanceof Error ? err.message : String(err), err);
  }
}

/**
 * `err` with `context` in front of its message and the original as its cause, keeping its class
 * (instanceof still holds) and its own fields (code, file, ...). A native error (a plain Error with
 * a code) becomes a FinetorchError. Anything that is not an Error passes through.
 */
export function withContext(context: string, err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  if (err.constructor === Error && typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)) {
    return new FinetorchError(code as ErrorCode, `${context}: ${err.message}`, { cause: err });
  }
  const wrapped = Object.assign(Object.create(Object.getPrototypeOf(err) as object | null) as Error, err);
  Object.defineProperty(wrapped, 'message', { value: `${context}: ${err.message}`, writable: true, configurable: true });
  Object.defineProperty(wrapped, 'cause', { value: err, writable: true, configurable: true });
  Error.captureStackTrace(wrapped, withContext);
  return wrapped;
}
