// finetorch train --nproc-per-node N: this node's ranks of a data-parallel job, started as torchrun
// starts them. Each rank is this same command in a child process, told its place by torchrun's
// variables (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT...), with its share of the
// cores (OMP_NUM_THREADS) and its output prefixed "[rank R] ". When a rank fails, the others are
// stopped (SIGTERM, then SIGKILL after a grace period) and the launcher exits with the failed
// rank's code.
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import { Writable } from 'node:stream';
import { Flags, UsageError } from './args';

export interface JobLayout {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
}

/** Set in every rank the launcher starts: the command knows it is one rank, not the launcher. */
export const LAUNCHED_ENV = 'FINETORCH_LAUNCHED';

const STOP_GRACE_MS = 10_000;

/** The launcher's flags, shared by the commands that train. */
export const LAUNCH_OPTIONS = {
  'nproc-per-node': { type: 'string', value: 'N', help: 'train data-parallel: start N ranks on this machine, as torchrun does' },
  nnodes: { type: 'string', value: 'M', help: 'machines in the job (default 1): run the same command on each with its --node-rank' },
  'node-rank': { type: 'string', value: 'K', help: "this machine's place in the job, 0 to M-1 (default 0)" },
  'master-addr': { type: 'string', value: 'HOST', help: 'address of node 0, whose rank 0 hosts the rendezvous store (needed with --nnodes)' },
  'master-port': { type: 'string', value: 'PORT', help: "the store's port (default: a free one on one machine, 29500 on several)" },
} as const;

/**
 * The job the launcher flags describe, or undefined when there are none (a plain run, or a rank
 * that torchrun started). The flags make no sense under torchrun, which launches by itself.
 */
export async function jobLayout(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<JobLayout | undefined> {
  const given = Object.keys(LAUNCH_OPTIONS).filter((f) => flags.string(f) !== undefined);
  if (given.length === 0) return undefined;
  if (env.TORCHELASTIC_RUN_ID !== undefined) {
    throw new UsageError(`--${given[0]} starts the ranks itself: under torchrun, leave the launcher flags out`);
  }
  const optional = (name: string, fallback: number, min: number) => (flags.string(name) === undefined ? fallback : flags.int(name, min));
  const nnodes = optional('nnodes', 1, 1);
  const nodeRank = optional('node-rank', 0, 0);
  if (nodeRank >= nnodes) throw new UsageError(`--node-rank must be below --nnodes (${nnodes}), got ${nodeRank}`);
  const masterAddr = flags.string('master-addr');
  if (nnodes > 1 && !masterAddr) throw new UsageError('--nnodes needs --master-addr: the address of node 0 that every node can reach');
  const port = optional('master-port', 0, 1);
  if (port > 65535) throw new UsageError(`--master-port must be a port number (1 to 65535), got ${port}`);
  return {
    nprocPerNode: optional('nproc-per-node', 1, 1), nnodes, nodeRank,
    masterAddr: masterAddr ?? '127.0.0.1',
    masterPort: port || (nnodes > 1 ? 29500 : await freePort()),
  };
}

/** A TCP port nobody listens on right now: a one-machine job's store (torchrun --standalone's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The variables torchrun gives each rank (torch.distributed.run's names). */
export function rankEnv(layout: JobLayout, localRank: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const worldSize = layout.nnodes * layout.nprocPerNode;
  const threads = Math.max(1, Math.floor(os.availableParallelism() / layout.nprocPerNode));
  return {
    ...env,
    MASTER_ADDR: layout.masterAddr,
    MASTER_PORT: String(layout.masterPort),
    WORLD_SIZE: String(worldSize),
    RANK: String(layout.nodeRank * layout.nprocPerNode + localRank),
    LOCAL_RANK: String(localRank),
    LOCAL_WORLD_SIZE: String(layout.nprocPerNode),
    GROUP_RANK: String(layout.nodeRank),
    // The cores are shared out unless the user said otherwise (torchrun would set 1).
    OMP_NUM_THREADS: env.OMP_NUM_THREADS ?? String(threads),
    [LAUNCHED_ENV]: '1',
  };
}

/** Copies a child's output to `out`, each line prefixed; a last line without newline is kept. */
function prefixLines(source: NodeJS.ReadableStream, out: Writable, prefix: string): () => void {
  let partial = '';
  source.setEncoding('utf8');
  source.on('data', (chunk: string) => {
    const lines = (partial + chunk).split(/\r?\n|\r/);
    partial = lines.pop()!;
    if (lines.length) out.write(lines.map((line) => `${prefix}${line}\n`).join(''));
  });
  return () => {
    if (partial) out.write(`${prefix}${partial}\n`);
    partial = '';
  };
}

/**
 * Starts this node's ranks of `command` (node's arguments to run the CLI with) and waits for
 * them. Resolves to the exit code: 0 when every rank succeeded, else the first failure's.
 */
export function launch(layout: JobLayout, command: string[], io: { stdout: Writable; stderr: Writable } = process): Promise<number> {
  return new Promise((resolve) => {
    const children: ChildProcess[] = [];
    let running = layout.nprocPerNode;
    let failure: { rank: number; code: number } | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const stopOthers = (): void => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, STOP_GRACE_MS);
    };
    // Ctrl-C reaches the ranks from the terminal (same process group); other signals are passed on.
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signal !== 'SIGINT') for (const child of children) child.kill(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);

    for (let local = 0; local < layout.nprocPerNode; local++) {
      const env = rankEnv(layout, local);
      const rank = Number(env.RANK);
      // An IPC channel: a rank whose launcher vanished notices the disconnect and exits.
      const child = spawn(process.execPath, command, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      children.push(child);
      io.stderr.write(`finetorch train: rank ${rank} of ${layout.nnodes * layout.nprocPerNode} started (pid ${child.pid})\n`);
      const flushOut = prefixLines(child.stdout!, io.stdout, `[rank ${rank}] `);
      const flushErr = prefixLines(child.stderr!, io.stderr, `[rank ${rank}] `);
      child.on('error', (err) => io.stderr.write(`finetorch train: cannot start rank ${rank}: ${err.message}\n`));
      child.on('close', (code, signal) => {
        flushOut();
        flushErr();
        const exit = code ?? 128 + (signal ? os.constants.signals[signal] : 0);
        if (exit !== 0 && !failure) {
          failure = { rank, code: exit };
          io.stderr.write(`finetorch train: rank ${rank} ${signal ? `was killed by ${signal}` : `exited with code ${exit}`}` +
            `${running > 1 ? '; stopping the other ranks' : ''}\n`);
          stopOthers();
        }
        if (--running > 0) return;
        if (killTimer) clearTimeout(killTimer);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('SIGHUP', onSignal);
        resolve(failure ? failure.code : 0);
      });
    }
  });
}

/** In a rank started by launch(): exit when the launcher is gone, rather than train on alone. */
export function exitWithLauncher(): void {
  if (!process.env[LAUNCHED_ENV] || !process.channel) return;
  process.on('disconnect', () => process.exit(1));
  process.channel.unref();
}
