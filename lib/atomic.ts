// Every file finetorch writes goes to a temporary name in the same folder, is synced, and is
// renamed into place: an interrupted or failed write leaves the previous file or the new one,
// never half of one, and no temporary file.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** A temporary name beside `file`, unique to this call: where a write goes before its rename. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
  const temp = tempPathFor(file);
  try {
    const handle = await fs.open(temp, 'wx');
    try {
      // Each writeFile continues where the previous one stopped.
      for (const chunk of Array.isArray(data) ? data : [data]) await handle.writeFile(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}
