// The one validation rule for user input: options are read against a schema of rules, unknown keys
// are refused with the name the user probably meant, and every mistake reads
// "<where>: <name> must be <expected>, got <value>" (TypeError for a wrong type, RangeError for a
// value out of range, both with a `code`). The native side trusts what passes here.
import { rangeError, typeError } from './errors';

type Verdict = 'ok' | 'type' | 'range';

/** What one value must be. `expected` completes "must be ..." in messages. */
export class Rule<T> {
  readonly #verdict: (value: unknown) => Verdict;

  constructor(
    readonly expected: string,
    verdict: (value: unknown) => Verdict,
    readonly fallback?: { value: T },
    readonly optional = false,
    /** The allowed strings of an enum, for a did-you-mean in the message. */
    readonly choices?: readonly string[],
  ) {
    this.#verdict = verdict;
  }

  /** The value used when the option is absent. */
  default(value: T): Rule<T> {
    return new Rule<T>(this.expected, this.#verdict, { value }, false, this.choices);
  }

  /** The option may be absent (then undefined). */
  orUndefined(): Rule<T | undefined> {
    return new Rule<T | undefined>(this.expected, this.#verdict as (v: unknown) => Verdict, undefined, true, this.choices);
  }

  /** A further condition on an otherwise valid value (a RangeError when it fails). */
  where(expected: string, test: (value: T) => boolean): Rule<T> {
    return new Rule<T>(`${this.expected} ${expected}`, (v) => {
      const first = this.#verdict(v);
      return first !== 'ok' ? first : test(v as T) ? 'ok' : 'range';
    }, this.fallback, this.optional, this.choices);
  }

  judge(value: unknown): Verdict {
    return this.#verdict(value);
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number';

function ranged(kind: string, isKind: (v: number) => boolean, bounds: { min?: number; max?: number; above?: number }): Rule<number> {
  const { min, max, above } = bounds;
  const parts: string[] = [];
  if (above !== undefined) parts.push(`> ${above}`);
  if (min !== undefined) parts.push(`>= ${min}`);
  if (max !== undefined) parts.push(`<= ${max}`);
  const expected = parts.length ? `${kind} ${parts.join(' and ')}` : kind;
  return new Rule<number>(expected, (v) => {
    if (!isNumber(v)) return 'type';
    if (!isKind(v)) return 'range';
    if (above !== undefined && !(v > above)) return 'range';
    if (min !== undefined && !(v >= min)) return 'range';
    if (max !== undefined && !(v <= max)) return 'range';
    return 'ok';
  });
}

/** An integer, optionally bounded. */
export function int(bounds: { min?: number; max?: number } = {}): Rule<number> {
  return ranged('an integer', Number.isSafeInteger, bounds);
}

/** A finite number, optionally bounded (`above` is exclusive). */
export function num(bounds: { min?: number; max?: number; above?: number } = {}): Rule<number> {
  return ranged('a finite number', Number.isFinite, bounds);
}

export function bool(): Rule<boolean> {
  return new Rule<boolean>('a boolean', (v) => (typeof v === 'boolean' ? 'ok' : 'type'));
}

export function str(): Rule<string> {
  return new Rule<string>('a string', (v) => (typeof v === 'string' ? 'ok' : 'type'));
}

/** One of a fixed set of strings (an enum passed by name). */
export function oneOf<const T extends string>(values: readonly T[]): Rule<T> {
  const expected = `one of ${values.map((v) => `'${v}'`).join(', ')}`;
  return new Rule<T>(expected, (v) => (typeof v !== 'string' ? 'type' : (values as readonly string[]).includes(v) ? 'ok' : 'range'), undefined, false, values);
}

export function func<F extends (...args: never[]) => unknown>(): Rule<F> {
  return new Rule<F>('a function', (v) => (typeof v === 'function' ? 'ok' : 'type'));
}

/** An array whose every element passes `item`, optionally of a fixed length. */
export function arrayOf<T>(item: Rule<T>, length?: number): Rule<T[]> {
  const expected = `an array${length === undefined ? '' : ` of ${length}`} of ${item.expected.replace(/^an? /, '')}s`;
  return new Rule<T[]>(expected, (v) => {
    if (!Array.isArray(v)) return 'type';
    if (length !== undefined && v.length !== length) return 'range';
    for (const x of v) {
      const verdict = item.judge(x);
      if (verdict !== 'ok') return verdict;
    }
    return 'ok';
  });
}

/** Anything that passes `test`; `expected` names it ("a Dataset", "an SGD optimizer"). */
export function custom<T>(expected: string, test: (value: unknown) => boolean): Rule<T> {
  return new Rule<T>(expected, (v) => (test(v) ? 'ok' : 'type'));
}

/** A value as messages show it. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) {
    const text = JSON.stringify(value);
    return text !== undefined && text.length <= 60 ? text : `an array of ${value.length}`;
  }
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** Checks one argument; returns it typed. */
export function checkArg<T>(where: string, name: string, value: unknown, rule: Rule<T>): T {
  if (value === undefined) {
    if (rule.fallback) return rule.fallback.value;
    if (rule.optional) return undefined as T;
  }
  const verdict = rule.judge(value);
  if (verdict === 'ok') return value as T;
  const meant = verdict === 'range' && rule.choices && typeof value === 'string' ? didYouMean(value, rule.choices) : undefined;
  const message = `${where}: ${name} must be ${rule.expected}, got ${describe(value)}${meant ? ` (did you mean '${meant}'?)` : ''}`;
  throw (verdict === 'type' ? typeError : rangeError)('ERR_FINETORCH_INVALID_ARG', message);
}

export type Schema = Record<string, Rule<unknown>>;
export type Parsed<S extends Schema> = { [K in keyof S]: S[K] extends Rule<infer T> ? T : never };

/**
 * Reads an options object against `schema`: absent keys take their default, unknown keys are a
 * TypeError that suggests the key meant (`batch_size` -> `batchSize`). `misplaced` explains keys
 * that users bring from elsewhere but that are no option here (ResNet.load's `num_classes`): the
 * nearest option would be the wrong advice.
 */
export function checkOptions<S extends Schema>(where: string, options: unknown, schema: S, misplaced: Record<string, string> = {}): Parsed<S> {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw typeError('ERR_FINETORCH_INVALID_ARG', `${where}: options must be an object, got ${describe(options)}`);
  }
  const given = options as Record<string, unknown>;
  const known = Object.keys(schema);
  for (const key of Object.keys(given)) {
    if (Object.prototype.hasOwnProperty.call(schema, key)) continue;
    const why = Object.entries(misplaced).find(([name]) => squash(name) === squash(key))?.[1];
    if (why) throw typeError('ERR_FINETORCH_UNKNOWN_OPTION', `${where}: '${key}' is not an option: ${why}`);
    const meant = didYouMean(key, known);
    throw typeError('ERR_FINETORCH_UNKNOWN_OPTION', `${where}: unknown option '${key}'${meant ? ` (did you mean '${meant}'?)` : ''}; ` +
      `known options: ${known.join(', ')}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of known) out[key] = checkArg(where, key, given[key], schema[key]);
  return out as Parsed<S>;
}

/** The candidate a misspelt or snake_case name most likely meant, if any is close enough. */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  const exact = candidates.find((c) => squash(c) === squash(name));
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(squash(name), squash(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** A name without case, '-' or '_': batch_size, batchSize and batch-size are one. */
function squash(name: string): string {
  return name.replace(/[-_]/g, '').toLowerCase();
}

/** Edits from a to b, a swap of two neighbours counting as one ('trian' -> 'train'): optimal string alignment. */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j], before[j - 2] + 1);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length];
}
