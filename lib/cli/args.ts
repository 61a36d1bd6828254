// Command-line parsing shared by every command: node:util's parseArgs in strict mode, typed value
// checks and generated help, so that every usage mistake becomes a UsageError (exit 2) alike.
import { parseArgs } from 'node:util';
import { didYouMean } from '../base/check';
import { FinetorchError, internalError } from '../base/errors';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Placeholder for the value in help, e.g. 'DIR'. */
  value?: string;
  help: string;
  /** Used when the flag is absent; shown in help. Strings, so defaults pass the same checks as input. */
  default?: string;
}

export interface CommandSpec {
  name: string;
  /** Synopsis lines, without the leading 'finetorch '. */
  usage: string[];
  options: Record<string, OptionSpec>;
  /** How many positional arguments the command takes (none when absent), and what they are, for "missing" messages. */
  positionals?: { min: number; max: number; what?: string };
  /** Paragraphs after the option list. */
  notes?: string[];
}

/** A command: its flags and help, and how it runs once they are read (cli/commands/ holds one per command). */
export interface Command {
  spec: CommandSpec;
  /** Resolves to the exit code. */
  run(args: Parsed): Promise<number>;
}

/** A mistake in how the command was called: reported with the usage, exit code 2. */
export class UsageError extends FinetorchError {
  constructor(message: string) {
    super('ERR_FINETORCH_INVALID_ARG', message);
    this.name = 'UsageError';
  }
}

export interface Parsed {
  help: boolean;
  flags: Flags;
  positionals: string[];
}

export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  // --help wins over any other mistake on the line: it is what someone lost needs.
  if (argv.includes('--help') || argv.includes('-h')) return { help: true, flags: new Flags(spec, {}), positionals: [] };
  const args = withNegativeValues(spec, argv);
  checkOptionNames(spec, args);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(Object.entries(spec.options).map(([name, o]) => [name, { type: o.type }])),
      strict: true,
      allowPositionals: spec.positionals !== undefined,
    });
  } catch (err) {
    // parseArgs appends advice about '--' to its first sentence; the first sentence says it all.
    throw new UsageError((err as Error).message.split('. ')[0]);
  }
  const { min = 0, max = 0 } = spec.positionals ?? {};
  const positionals = parsed.positionals;
  if (positionals.length < min) throw new UsageError(`missing argument${spec.positionals?.what ? `: ${spec.positionals.what}` : ''}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'`);
  return { help: false, flags: new Flags(spec, parsed.values as Record<string, string | boolean>), positionals };
}

/** The tokens before a '--' terminator, where options may stand. */
function optionTokens(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

/**
 * `--lr -1` as `--lr=-1`: parseArgs would take '-1' for an option and call the value ambiguous;
 * a number, even a negative one, is a value, so that the flag's own range check answers.
 */
function withNegativeValues(spec: CommandSpec, argv: string[]): string[] {
  const options = optionTokens(argv);
  const out: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const name = /^--([^=]+)$/.exec(options[i])?.[1];
    const next = options[i + 1];
    if (name && spec.options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|inf)/i.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(options[i]);
    }
  }
  return [...out, ...argv.slice(options.length)];
}

/** An unknown --flag is named with the one probably meant. */
function checkOptionNames(spec: CommandSpec, argv: string[]): void {
  const known = Object.keys(spec.options);
  for (const token of optionTokens(argv)) {
    const name = /^--([^=]+)/.exec(token)?.[1];
    if (name === undefined || known.includes(name)) continue;
    const meant = didYouMean(name, known);
    throw new UsageError(`unknown option '--${name}'${meant ? ` (did you mean '--${meant}'?)` : ''}`);
  }
}

/** The flags of one call, read with checks; every bad value is a UsageError naming the flag. */
export class Flags {
  readonly #spec: CommandSpec;
  readonly #given: Readonly<Record<string, string | boolean | undefined>>;
  readonly #fallback: Readonly<Record<string, string>>;

  constructor(
    spec: CommandSpec,
    given: Readonly<Record<string, string | boolean | undefined>>,
    /** Values that stand in for absent flags before the defaults (train --resume: the earlier run's). */
    fallback: Readonly<Record<string, string>> = {},
  ) {
    this.#spec = spec;
    this.#given = given;
    this.#fallback = fallback;
  }

  withFallback(fallback: Record<string, string>): Flags {
    return new Flags(this.#spec, this.#given, fallback);
  }

  string(name: string): string | undefined {
    const value = this.#given[name] ?? this.#fallback[name] ?? this.#option(name).default;
    return typeof value === 'string' ? value : undefined;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
    return value;
  }

  flag(name: string): boolean {
    this.#option(name);
    return this.#given[name] === true || (this.#given[name] === undefined && this.#fallback[name] === 'true');
  }

  /** Whether the flag is on the command line (not a fallback or a default). */
  has(name: string): boolean {
    this.#option(name);
    return this.#given[name] !== undefined;
  }

  int(name: string, min = 1): number {
    const raw = this.required(name);
    const value = Number(raw);
    if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
      throw new UsageError(`--${name} must be an integer of at least ${min}, got '${raw}'`);
    }
    return value;
  }

  /** A finite number in [min, max], or in (min, max) when `open`. */
  number(name: string, range: { min?: number; max?: number; open?: boolean } = {}): number {
    const { min = -Infinity, max = Infinity, open = false } = range;
    const raw = this.required(name);
    const value = raw.trim() === '' ? NaN : Number(raw);
    const inside = open ? value > min && value < max : value >= min && value <= max;
    if (!Number.isFinite(value) || !inside) {
      const bounds = max === Infinity
        ? `${open ? 'greater than' : 'at least'} ${min}`
        : `between ${min} and ${max}${open ? ' (exclusive)' : ''}`;
      throw new UsageError(`--${name} must be a number ${bounds}, got '${raw}'`);
    }
    return value;
  }

  choice<T extends string>(name: string, choices: readonly T[]): T {
    const raw = this.required(name);
    if (!(choices as readonly string[]).includes(raw)) {
      throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${raw}'`);
    }
    return raw as T;
  }

  #option(name: string): OptionSpec {
    const option = this.#spec.options[name];
    if (!option) throw internalError(`finetorch ${this.#spec.name} reads an undeclared flag --${name}`);
    return option;
  }
}

/** The synopsis, for usage errors. */
export function usageText(spec: CommandSpec): string {
  return spec.usage.map((u, i) => `${i === 0 ? 'usage: ' : '       '}finetorch ${u}`).join('\n');
}

/** Everything `--help` prints. */
export function helpText(spec: CommandSpec, summary: string): string {
  const rows = Object.entries(spec.options).map(([name, o]) => [
    `--${name}${o.value ? ` ${o.value}` : ''}`,
    o.default !== undefined ? `${o.help} (default: ${o.default})` : o.help,
  ]);
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    usageText(spec),
    '',
    summary,
    '',
    'options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
    ...(spec.notes ?? []).flatMap((note) => ['', wrap(note, 96)]),
    '',
  ].join('\n');
}

function wrap(paragraph: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line].join('\n');
}
