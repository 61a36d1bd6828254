// What a benchmark section changes and must put back, however it ends: its temporary directory and
// LibTorch's compute thread count (the sections pin threads on both sides).
import { getNumThreads, setNumThreads } from '../lib';
import { tempDir } from './reference-python';

export async function inBenchScratch<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = tempDir(prefix);
  const threads = getNumThreads();
  try {
    return await body(dir);
  } finally {
    setNumThreads(threads);
    cleanup();
  }
}
