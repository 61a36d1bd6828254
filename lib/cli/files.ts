// Files of the CLI: every write is atomic (lib/base/atomic.ts), so an interrupted run leaves either the
// previous file or the new one, never half of one.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../base/atomic';

export { writeFileAtomic };

export function writeJson(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Throws a one-line error naming the file (and what it is for) when it is not a readable file. */
export async function requireFile(file: string, what: string): Promise<void> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) throw new Error(`${what} ${file} does not exist`);
  if (!stat.isFile()) throw new Error(`${what} ${file} is not a file`);
}

/** Whether `inner` is `outer` or inside it. */
export function isWithin(inner: string, outer: string): boolean {
  const relative = path.relative(path.resolve(outer), path.resolve(inner));
  return relative === '' || (relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative));
}
