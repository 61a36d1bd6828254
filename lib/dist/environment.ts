// Where this process stands in a data-parallel job, as torchrun describes it in the environment
// (torch.distributed's env:// initialisation): read and checked without joining anything.
import { FinetorchError } from '../base/errors';

/** Environment variables (process.env's shape). */
export type Environment = Record<string, string | undefined>;

/** Where this process stands in the job, as torchrun describes it in the environment. */
export interface JobEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
  /** Under torchrun the agent hosts the store; ranks join it under this prefix. */
  agentStorePrefix?: string;
  /** GLOO_SOCKET_IFNAME: the network interfaces Gloo uses. */
  interfaces: string[];
}

function variable(env: Environment, name: string, test: (value: number) => boolean, expected: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    throw new FinetorchError('ERR_FINETORCH_DIST', `dist.init: ${name} is not set: start the ranks with ` +
      '`finetorch train --nproc-per-node N`, torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT');
  }
  const value = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !test(value)) throw new FinetorchError('ERR_FINETORCH_DIST', `dist.init: ${name} must be ${expected}, got '${raw}'`);
  return value;
}

/** Reads torchrun's variables (torch.distributed's env:// initialisation). */
export function jobFromEnv(env: Environment = process.env): JobEnv {
  const worldSize = variable(env, 'WORLD_SIZE', (v) => v >= 1, 'a positive integer');
  const rank = variable(env, 'RANK', (v) => v < worldSize, `an integer below WORLD_SIZE (${worldSize})`);
  const masterPort = variable(env, 'MASTER_PORT', (v) => v >= 1 && v <= 65535, 'a port number');
  const masterAddr = env.MASTER_ADDR;
  if (!masterAddr) throw new FinetorchError('ERR_FINETORCH_DIST', 'dist.init: MASTER_ADDR is not set (the address of rank 0)');
  const localRank = env.LOCAL_RANK ? variable(env, 'LOCAL_RANK', () => true, 'an integer') : 0;
  const agent = env.TORCHELASTIC_USE_AGENT_STORE === 'True';
  return {
    rank, worldSize, localRank, masterAddr, masterPort,
    agentStorePrefix: agent ? `/worker/attempt_${env.TORCHELASTIC_RESTART_COUNT ?? '0'}` : undefined,
    interfaces: (env.GLOO_SOCKET_IFNAME ?? '').split(',').filter((s) => s !== ''),
  };
}
