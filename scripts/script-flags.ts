// Command-line flags of the benchmark and demo scripts: a bad value is a usage error (exit 2) that
// names the flag; a failed run prints its error and exits 1.

export function usageError(message: string): never {
  console.error(message);
  process.exit(2);
}

/** `--name`'s text as a positive integer. */
export function positiveInteger(name: string, text: string): number {
  const v = Number(text);
  return Number.isSafeInteger(v) && v >= 1 ? v : usageError(`--${name} must be a positive integer, got ${text}`);
}

/** Runs a script's main promise to its exit status. */
export function runScript(main: Promise<unknown>): void {
  main.catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
