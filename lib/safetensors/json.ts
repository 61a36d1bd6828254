// The JSON header of a safetensors file, read by its schema: { "__metadata__": {str: str},
// "<name>": {"dtype": str, "shape": [uint], "data_offsets": [uint, uint]}, ... }. JSON.parse would
// do the syntax, but it keeps the last of two equal keys and rounds integers past 2^53, so that a
// forged header could mean one thing here and another to Python's safetensors; this reader refuses
// both. It keeps only what the schema names (unknown fields are skipped without building them, as
// serde does), charges every kept value to the reading budget before building it, and nests no
// deeper than serde_json's recursion limit.
import { codecError } from './error';

export interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  dataOffsets: [number, number];
}

export interface ParsedHeader {
  /** `__metadata__`, when the header has one. */
  metadata?: Map<string, string>;
  /** In the header's order. */
  entries: HeaderEntry[];
}

/** Charges `bytes` of memory for `what` before it is allocated; throws when over budget. */
export type Spend = (bytes: number, what: string) => void;

/** serde_json's default recursion limit. */
const MAX_DEPTH = 128;
// Rough JavaScript costs of what is kept: an entry (object, arrays, strings' headers), a dimension,
// a character.
const ENTRY_COST = 160;
const DIM_COST = 8;
const CHAR_COST = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

/** Parses the header's bytes (valid UTF-8, checked by the caller). */
export function parseHeaderJson(bytes: Uint8Array, spend: Spend): ParsedHeader {
  return new HeaderReader(bytes, spend).header();
}

class HeaderReader {
  #pos = 0;
  readonly #text: Buffer;

  readonly #bytes: Uint8Array;
  readonly #spend: Spend;

  constructor(bytes: Uint8Array, spend: Spend) {
    this.#bytes = bytes;
    this.#spend = spend;
    this.#text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  header(): ParsedHeader {
    const entries: HeaderEntry[] = [];
    const names = new Set<string>();
    let metadata: Map<string, string> | undefined;
    this.#object(1, (key) => {
      if (key === '__metadata__') {
        if (metadata) this.#fail("'__metadata__' appears twice");
        metadata = this.#metadata();
        return;
      }
      if (names.has(key)) this.#fail(`tensor ${quote(key)} appears twice`);
      names.add(key);
      entries.push(this.#entry(key));
    });
    this.#space();
    if (this.#pos < this.#bytes.length) this.#fail('trailing characters after the header object');
    return { metadata, entries };
  }

  /** `__metadata__`: a map of strings to strings. */
  #metadata(): Map<string, string> {
    const map = new Map<string, string>();
    this.#object(2, (key) => {
      if (map.has(key)) this.#fail(`'__metadata__' names ${quote(key)} twice`);
      if (this.#peek() !== QUOTE) this.#fail(`'__metadata__' values must be strings (${quote(key)} is not)`);
      const value = this.#string();
      this.#spend(ENTRY_COST, `'__metadata__' entry ${quote(key)}`);
      map.set(key, value);
    });
    return map;
  }

  #entry(name: string): HeaderEntry {
    this.#spend(ENTRY_COST + CHAR_COST * name.length, `tensor ${quote(name)}`);
    let dtype: string | undefined;
    let shape: number[] | undefined;
    let dataOffsets: number[] | undefined;
    const seen = new Set<string>();
    if (this.#peek() !== 0x7b) this.#fail(`tensor ${quote(name)} must be an object {dtype, shape, data_offsets}`);
    this.#object(2, (field) => {
      if (seen.has(field)) this.#fail(`tensor ${quote(name)} has two '${field}' fields`);
      seen.add(field);
      if (field === 'dtype') {
        if (this.#peek() !== QUOTE) this.#fail(`tensor ${quote(name)}: 'dtype' must be a string`);
        dtype = this.#string();
      } else if (field === 'shape') {
        shape = this.#uints(`tensor ${quote(name)}: 'shape'`);
      } else if (field === 'data_offsets') {
        dataOffsets = this.#uints(`tensor ${quote(name)}: 'data_offsets'`);
        if (dataOffsets.length !== 2) this.#fail(`tensor ${quote(name)}: 'data_offsets' must be [begin, end], got ${dataOffsets.length} numbers`);
      } else {
        this.#skipValue(2);
      }
    });
    for (const [field, value] of [['dtype', dtype], ['shape', shape], ['data_offsets', dataOffsets]] as const) {
      if (value === undefined) this.#fail(`tensor ${quote(name)} has no '${field}'`);
    }
    return { name, dtype: dtype!, shape: shape!, dataOffsets: dataOffsets as [number, number] };
  }

  /** An object at `depth`: calls `member` with each key, positioned at its value. */
  #object(depth: number, member: (key: string) => void): void {
    this.#space();
    this.#expect(0x7b, "'{'");
    this.#space();
    if (this.#peek() === 0x7d) {
      this.#pos++;
      return;
    }
    for (;;) {
      this.#space();
      if (this.#peek() !== QUOTE) this.#fail('expected a quoted key');
      const key = this.#string();
      this.#space();
      this.#expect(0x3a, "':'");
      this.#space();
      member(key);
      this.#space();
      const next = this.#bytes[this.#pos++];
      if (next === 0x7d) return;
      if (next !== 0x2c) this.#fail(`expected ',' or '}' in an object at depth ${depth}`, this.#pos - 1);
    }
  }

  /** A list of non-negative integers (each a safe integer: no file position reaches 2^53). */
  #uints(what: string): number[] {
    this.#expect(0x5b, `'[' (${what} must be a list of non-negative integers)`);
    const values: number[] = [];
    this.#space();
    if (this.#peek() === 0x5d) {
      this.#pos++;
      return values;
    }
    for (;;) {
      this.#space();
      this.#spend(DIM_COST, what);
      values.push(this.#uint(what));
      this.#space();
      const next = this.#bytes[this.#pos++];
      if (next === 0x5d) return values;
      if (next !== 0x2c) this.#fail(`expected ',' or ']' in ${what}`, this.#pos - 1);
    }
  }

  #uint(what: string): number {
    const start = this.#pos;
    const plain = this.#scanNumber();
    const token = this.#text.toString('latin1', start, Math.min(this.#pos, start + 40));
    if (!plain) this.#fail(`${what} must hold non-negative integers, got ${token}`, start);
    const value = this.#pos - start > 16 ? Infinity : Number(token);
    if (!Number.isSafeInteger(value)) this.#fail(`${what} holds ${token}, past 2^53 - 1`, start);
    return value;
  }

  /** Moves past a number, checked against JSON's grammar; whether it is a plain non-negative integer. */
  #scanNumber(): boolean {
    const b = this.#bytes;
    const start = this.#pos;
    const digits = () => {
      const from = this.#pos;
      while (b[this.#pos] >= 0x30 && b[this.#pos] <= 0x39) this.#pos++;
      return this.#pos > from;
    };
    let plain = true;
    if (b[this.#pos] === 0x2d) {
      this.#pos++;
      plain = false;
    }
    if (b[this.#pos] === 0x30) this.#pos++;
    else if (!(b[this.#pos] >= 0x31 && b[this.#pos] <= 0x39 && digits())) this.#fail(plain ? 'expected a value' : 'malformed number', start);
    if (b[this.#pos] === 0x2e) {
      this.#pos++;
      plain = false;
      if (!digits()) this.#fail('malformed number', start);
    }
    if (b[this.#pos] === 0x65 || b[this.#pos] === 0x45) {
      this.#pos++;
      plain = false;
      if (b[this.#pos] === 0x2b || b[this.#pos] === 0x2d) this.#pos++;
      if (!digits()) this.#fail('malformed number', start);
    }
    return plain;
  }

  /** A JSON string at pos, unescaped; control characters and lone surrogates are refused. */
  #string(): string {
    const start = this.#pos + 1;
    const escaped = this.#scanString();
    const end = this.#pos - 1;
    this.#spend(CHAR_COST * (end - start), 'a string');
    return escaped ? this.#unescape(start, end) : this.#text.toString('utf8', start, end);
  }

  #unescape(start: number, end: number): string {
    let out = '';
    let plain = start;
    for (let i = start; i < end; i++) {
      if (this.#bytes[i] !== BACKSLASH) continue;
      out += this.#text.toString('utf8', plain, i);
      const kind = this.#bytes[i + 1];
      if (kind === 0x75) {
        const unit = this.#hex4(i + 2);
        i += 5;
        if (unit >= 0xdc00 && unit <= 0xdfff) this.#fail('lone low surrogate in a \\u escape', i - 5);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const low = this.#bytes[i + 1] === BACKSLASH && this.#bytes[i + 2] === 0x75 ? this.#hex4(i + 3) : -1;
          if (!(low >= 0xdc00 && low <= 0xdfff)) this.#fail('lone high surrogate in a \\u escape', i - 5);
          out += String.fromCharCode(unit, low);
          i += 6;
        } else {
          out += String.fromCharCode(unit);
        }
      } else {
        const char = ESCAPES[kind];
        if (char === undefined) this.#fail(`invalid escape \\${String.fromCharCode(kind)}`, i);
        out += char;
        i += 1;
      }
      plain = i + 1;
    }
    return out + this.#text.toString('utf8', plain, end);
  }

  #hex4(at: number): number {
    const digits = this.#text.toString('latin1', at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.#fail('a \\u escape needs four hex digits', at - 2);
    return parseInt(digits, 16);
  }

  /** Skips any JSON value without building it; nesting counts toward serde_json's limit. */
  #skipValue(depth: number): void {
    // Open containers, innermost last: whether each is an object (true) or an array.
    const open: boolean[] = [];
    for (;;) {
      this.#space();
      const b = this.#peek();
      if (b === 0x7b || b === 0x5b) {
        if (depth + open.length + 1 > MAX_DEPTH) this.#fail(`nested deeper than ${MAX_DEPTH} levels (serde_json's limit)`);
        open.push(b === 0x7b);
        this.#pos++;
        this.#space();
        if (this.#peek() === (b === 0x7b ? 0x7d : 0x5d)) {
          this.#pos++;
          open.pop();
        } else if (b === 0x7b) {
          this.#key();
          continue;
        } else {
          continue;
        }
      } else if (b === QUOTE) {
        this.#skipString();
      } else if (b === 0x74 || b === 0x66 || b === 0x6e) {
        this.#literal();
      } else {
        this.#scanNumber();
      }
      // After a value: close what ends here, then go on with the next member or element.
      for (;;) {
        if (!open.length) return;
        this.#space();
        const next = this.#bytes[this.#pos++];
        const isObject = open[open.length - 1];
        if (next === (isObject ? 0x7d : 0x5d)) {
          open.pop();
          continue;
        }
        if (next !== 0x2c) this.#fail(`expected ',' or '${isObject ? '}' : ']'}'`, this.#pos - 1);
        if (isObject) this.#key();
        break;
      }
    }
  }

  /** A key and its colon, inside a skipped object. */
  #key(): void {
    this.#space();
    if (this.#peek() !== QUOTE) this.#fail('expected a quoted key');
    this.#skipString();
    this.#space();
    this.#expect(0x3a, "':'");
  }

  #skipString(): void {
    const start = this.#pos;
    const escapes = this.#scanString();
    if (escapes) this.#unescapeChecked(start + 1, this.#pos - 1);
  }

  /** Moves past a string; whether it holds escapes. */
  #scanString(): boolean {
    const start = this.#pos;
    let escaped = false;
    for (this.#pos++; ; this.#pos++) {
      if (this.#pos >= this.#bytes.length) this.#fail('a string runs past the end of the header', start);
      const b = this.#bytes[this.#pos];
      if (b === QUOTE) break;
      if (b < 0x20) this.#fail('control character in a string (JSON needs it escaped)');
      if (b === BACKSLASH) {
        escaped = true;
        this.#pos++;
      }
    }
    this.#pos++;
    return escaped;
  }

  /** Checks the escapes of a skipped string, building nothing that outlives the check. */
  #unescapeChecked(start: number, end: number): void {
    for (let i = start; i < end; i++) {
      if (this.#bytes[i] !== BACKSLASH) continue;
      const kind = this.#bytes[i + 1];
      if (kind === 0x75) {
        this.#hex4(i + 2);
        i += 5;
      } else if (ESCAPES[kind] === undefined) {
        this.#fail(`invalid escape \\${String.fromCharCode(kind)}`, i);
      } else {
        i += 1;
      }
    }
  }

  #literal(): void {
    for (const word of ['true', 'false', 'null']) {
      if (this.#text.toString('latin1', this.#pos, this.#pos + word.length) === word) {
        this.#pos += word.length;
        return;
      }
    }
    this.#fail('expected a value');
  }

  #space(): void {
    for (;;) {
      const b = this.#bytes[this.#pos];
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return;
      this.#pos++;
    }
  }

  #peek(): number | undefined {
    return this.#bytes[this.#pos];
  }

  #expect(byte: number, what: string): void {
    if (this.#bytes[this.#pos] !== byte) this.#fail(`expected ${what}`);
    this.#pos++;
  }

  #fail(message: string, at = this.#pos): never {
    const where = at >= this.#bytes.length ? 'at its end' : `at byte ${at}`;
    throw codecError(`the JSON header (${this.#bytes.length} bytes) is malformed ${where}: ${message}`);
  }
}

/** A name as JSON writes it, shortened: for messages about untrusted names. */
export function quote(name: string): string {
  const json = JSON.stringify(name);
  return json.length > 80 ? `${json.slice(0, 77)}..."` : json;
}
