// Every file finetorch writes goes to a temporary name in the same folder, is synced, and is
// renamed into place: an interrupted or failed write leaves the previous file or the new one,
// never half of one. A writer killed outright (kill -9, power loss) cannot remove its temporary
// file, so each temporary name says who wrote it (host, pid, the pid's start time) and the next
// write to the same target removes those whose writer is gone.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Hosts sharing a folder (NFS, containers on one volume) cannot see each other's processes: a
// temporary file from another host is never judged.
const HOST = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);

// .<target>.<host>.<pid>-<start time>.<random>.tmp; earlier versions wrote .<target>.<pid>.<random>.tmp.
const TEMP_TAIL = /^(?:([0-9a-f]{8})\.)?(\d+)(?:-(\d+))?\.[0-9a-f]{12}\.tmp$/;
const WRITER = `${HOST}.${process.pid}-${startTime(process.pid) ?? 0}`;

/** A temporary name beside `file`, unique to this call and naming its writer: where a write goes before its rename. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${WRITER}.${randomBytes(6).toString('hex')}.tmp`);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
  await throughTemp(file, async (temp) => {
    const handle = await fs.promises.open(temp, 'wx');
    try {
      // Each writeFile continues where the previous one stopped.
      for (const chunk of typeof data === 'string' || data instanceof Uint8Array ? [data] : data) await handle.writeFile(chunk);
    } finally {
      await handle.close();
    }
  });
}

/** Copies `source` to `file` as writeFileAtomic writes: through a temporary name, synced, renamed. */
export async function copyFileAtomic(source: string, file: string): Promise<void> {
  await throughTemp(file, (temp) => fs.promises.copyFile(source, temp, fs.constants.COPYFILE_EXCL));
}

/** `make` writes the temporary file; then it is committed to `file`, or removed if anything failed. */
async function throughTemp(file: string, make: (temp: string) => Promise<void>): Promise<void> {
  await removeStaleTemps(path.dirname(file), path.basename(file));
  const temp = tempPathFor(file);
  try {
    await make(temp);
    await commitTemp(temp, file);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
}

/** A finished temporary file made `file`: its bytes synced to the disk first, then renamed into place. */
export async function commitTemp(temp: string, file: string): Promise<void> {
  const handle = await fs.promises.open(temp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temp, file);
}

/**
 * Removes the temporary files of writers of `dir/base` that are no longer running: same host,
 * and the pid is gone or now belongs to a process that started at another time (a reused pid).
 * Best effort: a folder that cannot be listed, or a file another cleaner removed first, is no error.
 */
export async function removeStaleTemps(dir: string, base: string): Promise<string[]> {
  const prefix = `.${base}.`;
  const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = TEMP_TAIL.exec(name.slice(prefix.length));
    if (!match) continue;
    const [, host, pid, start] = match;
    if ((host ?? HOST) !== HOST || writerRuns(Number(pid), start === undefined ? 0 : Number(start))) continue;
    const file = path.join(dir, name);
    await fs.promises.rm(file, { force: true }).then(() => removed.push(file), () => undefined);
  }
  return removed;
}

/** Whether process `pid` runs and is the one that started at `start` (0: unknown, any will do). */
function writerRuns(pid: number, start: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const now = start === 0 ? undefined : startTime(pid);
  return now === undefined || now === start;
}

/** When the process started, in clock ticks after boot (Linux /proc); undefined elsewhere. */
function startTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is the 3rd, starttime the 22nd.
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isSafeInteger(start) ? start : undefined;
  } catch {
    return undefined;
  }
}
