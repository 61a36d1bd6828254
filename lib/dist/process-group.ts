// Data-parallel training across processes and machines on torch.distributed's own engine (c10d):
// dist.init() joins the job that torchrun (or `finetorch train --nproc-per-node`) started, from
// the same environment variables torch.distributed reads; then net.distributed() trains as
// DistributedDataParallel does, and dist.allReduce() combines metrics. The process group has one
// owner: every collective of this process (allReduce, barrier, and a data-parallel model's
// broadcasts and gradient sums) takes its turn on one queue in the order the program called it,
// so that the k-th collective of every rank meets the k-th of the others.
import { NativeDistGroup, native } from '../base/binding';
import { checkArg, checkOptions, custom, int, oneOf } from '../base/check';
import { FinetorchError } from '../base/errors';
import { OperationQueue } from '../base/queue';
import { JobEnv, jobFromEnv } from './environment';

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

const REDUCE_OP = oneOf(['sum', 'min', 'max'] as const);
const NUMBERS = custom<readonly number[]>('a Float32Array, a Float64Array or an array of numbers',
  (v) => Array.isArray(v) && v.every((x) => typeof x === 'number'));

const INIT_SCHEMA = {
  backend: oneOf(['gloo', 'nccl'] as const).default('gloo'),
  startupTimeoutMs: int({ min: 1 }).default(300_000),
  timeoutMs: int({ min: 1 }).default(300_000),
};

/** The process's place in a data-parallel job: use the one instance, `dist` (torch.distributed's functions). */
export class Distributed {
  #group: NativeDistGroup | undefined;
  #job: JobEnv | undefined;
  #joining = false;
  /** The collectives of this process, one at a time, in call order. */
  readonly #collectives = new OperationQueue();

  /** The backends this build of the addon can run. */
  get backends(): string[] {
    return native.distBackends();
  }

  get isInitialized(): boolean {
    return this.#group !== undefined;
  }

  /** This process's rank (0 .. worldSize - 1). */
  get rank(): number {
    return this.#joined('rank').job.rank;
  }

  get worldSize(): number {
    return this.#joined('worldSize').job.worldSize;
  }

  /** The rank within this machine (torchrun's LOCAL_RANK): the GPU index with NCCL. */
  get localRank(): number {
    return this.#joined('localRank').job.localRank;
  }

  /**
   * Joins the job described by the environment; resolves once every rank has joined. A rank
   * that does not come fails every other at the start-up deadline, naming it.
   */
  async init(options: InitOptions = {}): Promise<void> {
    const o = checkOptions('dist.init', options, INIT_SCHEMA);
    if (this.#group || this.#joining) {
      throw new FinetorchError('ERR_FINETORCH_DIST', 'dist.init: this process has joined a job already (dist.destroy() first)');
    }
    const job = jobFromEnv();
    this.#joining = true;
    try {
      this.#group = await native.distInit({
        backend: o.backend, rank: job.rank, worldSize: job.worldSize, masterAddr: job.masterAddr, masterPort: job.masterPort,
        agentStore: job.agentStorePrefix !== undefined, storePrefix: job.agentStorePrefix ?? '',
        startupTimeoutMs: o.startupTimeoutMs, timeoutMs: o.timeoutMs, interfaces: job.interfaces, deviceIndex: job.localRank,
      });
      this.#job = job;
    } finally {
      this.#joining = false;
    }
  }

  /** Resolves once every rank has called it. */
  barrier(): Promise<void> {
    const { group } = this.#joined('barrier');
    return this.#collectives.run('dist.barrier', () => native.distBarrier({ group }));
  }

  /**
   * Element-wise reduction over all ranks (sum by default); every rank receives the result. A
   * Float32Array or Float64Array is reduced in place (as torch.distributed.all_reduce), in its
   * own precision; other numbers come back as a new Float64Array.
   */
  async allReduce<T extends Float32Array | Float64Array>(values: T | readonly number[], op: ReduceOp = 'sum'): Promise<T | Float64Array> {
    const { group } = this.#joined('allReduce');
    checkArg('dist.allReduce', 'op', op, REDUCE_OP);
    const typed = values instanceof Float32Array || values instanceof Float64Array;
    if (!typed) checkArg('dist.allReduce', 'values', values, NUMBERS);
    const data = typed ? values : Float64Array.from(values);
    await this.#collectives.run('dist.allReduce', () => native.distAllReduce({ group, values: data, op }));
    return data;
  }

  /** Leaves the job, after the collectives already called; init() may join another. */
  async destroy(): Promise<void> {
    const group = this.#group;
    this.#group = undefined;
    this.#job = undefined;
    if (group) await this.#collectives.run('dist.destroy', () => native.distDestroy({ group }));
  }

  /** @internal The native group, for net.distributed(). */
  nativeGroup(what: string): NativeDistGroup {
    return this.#joined(what).group;
  }

  /**
   * @internal A turn among this process's collectives, taken now (in call order), for work that
   * issues collectives elsewhere: a data-parallel model's wrapping, buffer syncs and steps.
   */
  collectiveTurn(): Promise<() => void> {
    return this.#collectives.turn();
  }

  #joined(what: string): { group: NativeDistGroup; job: JobEnv } {
    if (!this.#group || !this.#job) throw new FinetorchError('ERR_FINETORCH_DIST', `dist.${what}: call dist.init() first`);
    return { group: this.#group, job: this.#job };
  }
}

/** The process's place in a data-parallel job (one per process, as torch.distributed's default group). */
export const dist = new Distributed();
