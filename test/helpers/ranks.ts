// The processes of a data-parallel job, for the distributed tests: a free port for the store,
// torchrun's variables per rank, and every rank's output and exit.
import { ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../lib/cli/launch';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** torchrun's variables for one rank on this machine, over loopback. */
export function rankEnv(rank: number, worldSize: number, port: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env, FINETORCH_DEBUG: '', OMP_NUM_THREADS: '1',
    MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: String(worldSize), RANK: String(rank), LOCAL_RANK: String(rank),
    ...extra,
  };
}

/** Starts a command, collecting its output; `onOutput` sees all of it so far as it comes. */
export function start(argv: string[], env: NodeJS.ProcessEnv, onOutput?: (text: string) => void): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(argv[0], argv.slice(1), { env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
    onOutput?.(stdout + stderr);
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    onOutput?.(stdout + stderr);
  });
  const exit = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exit };
}

/** Runs a command to its end. */
export function run(argv: string[], env: NodeJS.ProcessEnv, onOutput?: (text: string) => void): Promise<Exit> {
  return start(argv, env, onOutput).exit;
}

/** Every rank of a job (argv per rank), each with its variables; resolves when all have ended. */
export async function runRanks(worldSize: number, argv: (rank: number) => string[], extra: NodeJS.ProcessEnv = {}): Promise<Exit[]> {
  const port = await freePort();
  return Promise.all(Array.from({ length: worldSize }, (_, rank) => run(argv(rank), rankEnv(rank, worldSize, port, extra))));
}

/** Fails with every rank's output unless all exited 0. */
export function assertAllSucceeded(exits: Exit[], what: string): void {
  const failed = exits.map((e, rank) => ({ ...e, rank })).filter((e) => e.code !== 0);
  if (failed.length) {
    throw new Error(`${what}: ${failed.map((e) => `rank ${e.rank} exited ${e.code ?? e.signal}:\n${e.stdout}${e.stderr}`).join('\n')}`);
  }
}
