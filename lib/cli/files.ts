// Files of the CLI: every write is atomic (lib/base/atomic.ts), so an interrupted run leaves either the
// previous file or the new one, never half of one.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../base/atomic';
import { FinetorchError } from '../base/errors';

export { writeFileAtomic };

export function writeJson(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Throws a one-line error naming the file (and what it is for) when it is not a readable file. */
export async function requireFile(file: string, what: string): Promise<void> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `${what} ${file} does not exist`);
  if (!stat.isFile()) throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `${what} ${file} is not a file`);
}

/**
 * The JSON that `file` holds (the files finetorch keeps beside weights and in a run's folder):
 * undefined when there is no such file, `{ invalid }` when its text is no JSON. Other read
 * failures are thrown.
 */
export async function readJsonFile(file: string): Promise<{ value: unknown } | { invalid: Error } | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { invalid: err as Error };
  }
}

/** readJsonFile's value; a file that is no JSON is an error naming it. */
export async function readJson(file: string): Promise<unknown> {
  const read = await readJsonFile(file);
  if (read && 'invalid' in read) {
    throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `${file}: not valid JSON (${read.invalid.message})`, { cause: read.invalid });
  }
  return read?.value;
}

/** Whether `inner` is `outer` or inside it. */
export function isWithin(inner: string, outer: string): boolean {
  const relative = path.relative(path.resolve(outer), path.resolve(inner));
  return relative === '' || (relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative));
}
