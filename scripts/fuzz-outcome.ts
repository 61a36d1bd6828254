// What a loader did with one input, as the fuzzer and the corpus replay judge it. An error is
// clear when it carries a finetorch code, names the file, and no internal message (a TypeError
// from a property read, a typed array length, a Node ERR_* code) reached its text.

/**
 * The public readers of .pth files, of safetensors files, and the calls that load a file of either
 * format into a ResNet-18 (for files with its keys).
 */
export const PTH_LOADERS = ['readPth', 'loadPth', 'locatePth'] as const;
export const SAFETENSORS_LOADERS = ['loadSafetensors', 'readSafetensorsHeader', 'locateSafetensors'] as const;
export const MODEL_LOADERS = ['net.loadPth', 'ResNet18.load'] as const;
export type LoaderName = (typeof PTH_LOADERS)[number] | (typeof SAFETENSORS_LOADERS)[number] | (typeof MODEL_LOADERS)[number];

/** Worst last: an input's outcome is the worst of its loaders'. */
export const OUTCOME_KINDS = ['loaded', 'clear', 'unclear', 'memory', 'hang', 'crash'] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export interface LoaderOutcome {
  loader: string;
  kind: OutcomeKind;
  message?: string;
  /** Why an error is unclear. */
  why?: string;
  /** How far the peak RSS rose over the RSS before the call, in bytes (Linux). */
  peakGrowth?: number;
}

// Texts that only JavaScript engines, Node or LibTorch's internals write.
const INTERNAL_TEXT = /Cannot read propert|undefined is not|is not a function|is not iterable|is not a constructor|Invalid typed array length|Invalid array length|Array buffer allocation failed|Maximum call stack|Offset is outside the bounds|Exception raised from|INTERNAL ASSERT/;

const ENGINE_ERRORS: readonly ErrorConstructor[] = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError];

function isInternal(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return ENGINE_ERRORS.some((E) => err.constructor === E) || (typeof code === 'string' && code.startsWith('ERR_') && !code.startsWith('ERR_FINETORCH_'));
}

/** 'clear' or 'unclear' (with the reason) for an error a loader threw on `file`. */
export function judgeError(err: unknown, file: string): { kind: 'clear' | 'unclear'; message: string; why?: string } {
  const message = err instanceof Error ? err.message : String(err);
  const unclear = (why: string) => ({ kind: 'unclear' as const, message, why });
  if (!(err instanceof Error)) return unclear(`threw ${typeof err}, not an Error`);
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_FINETORCH_')) return unclear(`no finetorch code (${String(code)})`);
  if (!message.includes(file)) return unclear('does not name the file');
  if (INTERNAL_TEXT.test(message)) return unclear('an internal message');
  for (let cause = err.cause; cause instanceof Error; cause = cause.cause) {
    if (isInternal(cause) && cause.message && message.includes(cause.message)) return unclear(`passes on ${cause.name}: ${cause.message}`);
  }
  return { kind: 'clear', message };
}

/** The worse of two outcomes. */
export function worse(a: OutcomeKind, b: OutcomeKind): OutcomeKind {
  return OUTCOME_KINDS.indexOf(a) >= OUTCOME_KINDS.indexOf(b) ? a : b;
}
