// The peak resident memory of this process while one piece of work runs (Linux: /proc's VmHWM,
// reset through clear_refs), so that a fuzzed input or a hostile file is charged its own peak.
import * as fs from 'node:fs';

/** Resets the peak to the current RSS; false where the system cannot (not Linux, no /proc). */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The peak RSS in bytes since the last reset (or since start), undefined where unknown. */
export function peakRssBytes(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** How far the peak RSS rose above the RSS at the start while `work` ran, in bytes (work's errors propagate). */
export async function peakRssGrowth(work: () => Promise<unknown>): Promise<number | undefined> {
  const tracked = resetPeakRss();
  const start = process.memoryUsage().rss;
  await work();
  const peak = peakRssBytes();
  return tracked && peak !== undefined ? Math.max(0, peak - start) : undefined;
}
