// Data-parallel training across processes and machines on torch.distributed's own engine (c10d):
// dist.init() joins the job that torchrun (or `finetorch train --nproc-per-node`) started, from
// the same environment variables torch.distributed reads; then net.distributed() trains as
// DistributedDataParallel does, and dist.allReduce() combines metrics.
import { NativeDistGroup, native } from './binding';
import { checkArg, checkOptions, custom, int, oneOf } from './check';
import { FinetorchError } from './errors';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'min' | 'max';

export interface InitOptions {
  /** 'gloo' (CPU tensors; the default) or 'nccl' (CUDA). */
  backend?: Backend;
  /** Start-up deadline: every rank must have joined by then. Default 300000 (5 minutes). */
  startupTimeoutMs?: number;
  /** How long one collective may wait for the other ranks. Default 300000 (5 minutes). */
  timeoutMs?: number;
}

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

const REDUCE_OP = oneOf(['sum', 'min', 'max'] as const);
const NUMBERS = custom<readonly number[]>('a Float32Array, a Float64Array or an array of numbers',
  (v) => Array.isArray(v) && v.every((x) => typeof x === 'number'));

const INIT_SCHEMA = {
  backend: oneOf(['gloo', 'nccl'] as const).default('gloo'),
  startupTimeoutMs: int({ min: 1 }).default(300_000),
  timeoutMs: int({ min: 1 }).default(300_000),
};

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

/** The process's place in a data-parallel job: use the one instance, `dist` (torch.distributed's functions). */
export class Distributed {
  private group: NativeDistGroup | undefined;
  private job: JobEnv | undefined;
  private joining = false;

  /** The backends this build of the addon can run. */
  get backends(): string[] {
    return native.distBackends();
  }

  get isInitialized(): boolean {
    return this.group !== undefined;
  }

  /** This process's rank (0 .. worldSize - 1). */
  get rank(): number {
    return this.joined('rank').job.rank;
  }

  get worldSize(): number {
    return this.joined('worldSize').job.worldSize;
  }

  /** The rank within this machine (torchrun's LOCAL_RANK): the GPU index with NCCL. */
  get localRank(): number {
    return this.joined('localRank').job.localRank;
  }

  /**
   * Joins the job described by the environment; resolves once every rank has joined. A rank
   * that does not come fails every other at the start-up deadline, naming it.
   */
  async init(options: InitOptions = {}): Promise<void> {
    const o = checkOptions('dist.init', options, INIT_SCHEMA);
    if (this.group || this.joining) {
      throw new FinetorchError('ERR_FINETORCH_DIST', 'dist.init: this process has joined a job already (dist.destroy() first)');
    }
    const job = jobFromEnv();
    this.joining = true;
    try {
      this.group = await native.distInit({
        backend: o.backend, rank: job.rank, worldSize: job.worldSize, masterAddr: job.masterAddr, masterPort: job.masterPort,
        agentStore: job.agentStorePrefix !== undefined, storePrefix: job.agentStorePrefix ?? '',
        startupTimeoutMs: o.startupTimeoutMs, timeoutMs: o.timeoutMs, interfaces: job.interfaces, deviceIndex: job.localRank,
      });
      this.job = job;
    } finally {
      this.joining = false;
    }
  }

  /** Resolves once every rank has called it. */
  barrier(): Promise<void> {
    return native.distBarrier({ group: this.joined('barrier').group });
  }

  /**
   * Element-wise reduction over all ranks (sum by default); every rank receives the result. A
   * Float32Array or Float64Array is reduced in place (as torch.distributed.all_reduce), in its
   * own precision; other numbers come back as a new Float64Array.
   */
  async allReduce<T extends Float32Array | Float64Array>(values: T | readonly number[], op: ReduceOp = 'sum'): Promise<T | Float64Array> {
    const { group } = this.joined('allReduce');
    checkArg('dist.allReduce', 'op', op, REDUCE_OP);
    const typed = values instanceof Float32Array || values instanceof Float64Array;
    if (!typed) checkArg('dist.allReduce', 'values', values, NUMBERS);
    const data = typed ? values : Float64Array.from(values);
    await native.distAllReduce({ group, values: data, op });
    return data;
  }

  /** Leaves the job; init() may join another. */
  async destroy(): Promise<void> {
    const group = this.group;
    this.group = undefined;
    this.job = undefined;
    if (group) await native.distDestroy({ group });
  }

  /** @internal The native group, for net.distributed(). */
  nativeGroup(what: string): NativeDistGroup {
    return this.joined(what).group;
  }

  private joined(what: string): { group: NativeDistGroup; job: JobEnv } {
    if (!this.group || !this.job) throw new FinetorchError('ERR_FINETORCH_DIST', `dist.${what}: call dist.init() first`);
    return { group: this.group, job: this.job };
  }
}

/** The process's place in a data-parallel job (one per process, as torch.distributed's default group). */
export const dist = new Distributed();
