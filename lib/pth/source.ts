// Random access to a .pth file's bytes: a buffer already in memory, or the file itself, where
// only the parts asked for are read (the container's directory and the pickle, not the tensors).
import * as fs from 'node:fs/promises';
import { codecError } from './error';

export interface ByteSource {
  readonly length: number;
  /** Exactly `length` bytes from `start`; throws when they run past the end. */
  read(start: number, length: number): Promise<Buffer>;
}

export function bufferSource(buf: Buffer): ByteSource {
  return {
    length: buf.length,
    read: async (start, length) => {
      checkRange(start, length, buf.length);
      return buf.subarray(start, start + length);
    },
  };
}

/** Runs `work` with the file open as a ByteSource; the file is closed afterwards. */
export async function withFileSource<T>(file: string, work: (source: ByteSource) => Promise<T>): Promise<T> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    return await work({
      length: size,
      read: async (start, length) => {
        checkRange(start, length, size);
        return readFully(handle, Buffer.allocUnsafe(length), start);
      },
    });
  } finally {
    await handle.close();
  }
}

/** The whole file in one buffer of its own (fs.readFile reads in small chunks, which is slower). */
export async function readWholeFile(file: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    return await readFully(handle, Buffer.allocUnsafeSlow((await handle.stat()).size), 0);
  } finally {
    await handle.close();
  }
}

async function readFully(handle: fs.FileHandle, buf: Buffer, position: number): Promise<Buffer> {
  for (let done = 0; done < buf.length;) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw codecError('the file shrank while it was being read');
    done += bytesRead;
  }
  return buf;
}

function checkRange(start: number, length: number, size: number): void {
  if (start < 0 || length < 0 || start + length > size) {
    throw codecError(`bytes ${start}..${start + length} run past the end of the data (${size} bytes; truncated file?)`);
  }
}
