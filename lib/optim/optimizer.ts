// What SGD, AdamW and LARS share, as torch.optim.Optimizer: parameter groups that fill what they
// leave out from the defaults, `opt.paramGroups[i].lr = x` taking effect at the next step, and a
// state_dict in torch.optim's layout (per-parameter state by position across the groups, the
// groups' hyper-parameters under torch's names) that torch's own load_state_dict reads. The
// per-parameter state lives natively; every native call runs on the model's queue, in call order
// with the steps.
import { native, NativeGroupOptions, NativeOptimizer, NativeOptimizerKind, NativeOptimizerStep } from '../base/binding';
import { Rule, checkArg, checkOptions, custom, describe, int, num } from '../base/check';
import { FinetorchError, rangeError, typeError } from '../base/errors';
import { Parameter, ParameterOwner, StepOptimizer } from '../model/model';
import type { PthValue } from '../pth';
import type { HostTensor } from '../base/tensor';

/** The keys every parameter group has besides its optimizer's hyper-parameters. */
export interface GroupExtras {
  params: Parameter[];
  /** The lr the group started with; schedules scale it. */
  initialLr: number;
  /**
   * Multiplies the scheduled lr (MAE's `lr_scale`, which its util/lr_sched.py applies and
   * paramGroupsLrd sets): a schedule sets `lr = schedule(initialLr) * lrScale`. torch.optim itself
   * ignores it, as here without a schedule.
   */
  lrScale?: number;
}

/** A parameter group as given: its parameters, and any hyper-parameter that differs from the defaults. */
export type GroupSpec<H> = Partial<H> & { params: Iterable<Parameter>; lrScale?: number };

/** A parameter group as an optimizer with options O holds it: every hyper-parameter, and the extras. */
export type ParamGroupOf<O> = Required<O> & GroupExtras;

/** torch.optim's state_dict: each parameter's state by its position across the groups, and the groups. */
export type OptimizerStateDict = {
  state: Map<number, Record<string, HostTensor>>;
  /** Hyper-parameters under torch's names (weight_decay, betas ...), then `params`: positions. */
  param_groups: Array<{ [key: string]: PthValue; params: number[] }>;
};

/** torch.optim's state_dict of an optimizer that keeps S per parameter. */
export type StateDictOf<S> = OptimizerStateDict & { state: Map<number, S> };

/** @internal One hyper-parameter: its rule, torch's name for it, and its default when torch has one. */
export interface HyperParameter<T> {
  rule: Rule<T>;
  torch: string;
  default?: T;
}

/** @internal A group key torch's state_dict holds that finetorch does not vary: what it writes, what it can honour. */
export interface FixedFlag {
  write?: PthValue;
  honoured(value: PthValue): boolean;
}

/** @internal What makes an optimizer one: its name, native kind, hyper-parameters, flags and checks. */
export interface OptimizerSpec<H> {
  name: string;
  kind: NativeOptimizerKind;
  /** The per-parameter state torch.optim keeps, by its names, in the native side's order. */
  slots: readonly string[];
  hyper: { [K in keyof H]: HyperParameter<H[K]> };
  flags: Record<string, FixedFlag>;
  /** What one option cannot say alone (SGD's Nesterov needs momentum); throws. */
  check?(group: H, where: string): void;
  /** The hyper-parameters as the native step reads them. */
  toNative(group: H): NativeGroupOptions;
}

const iterableOfParameters = custom<Iterable<Parameter>>('an iterable of Parameters',
  (v) => typeof v === 'object' && v !== null && Symbol.iterator in v);
const lrScaleRule = num({ min: 0 }).orUndefined();

export abstract class Optimizer<H extends { lr: number } = { lr: number }, S extends OptimizerStateDict = OptimizerStateDict>
  implements StepOptimizer {
  readonly paramGroups: (H & GroupExtras)[];
  readonly #spec: OptimizerSpec<H>;
  readonly #model: ParameterOwner;
  readonly #nativeOptimizer: NativeOptimizer;
  #stepCount = 0;

  /** @internal */
  protected constructor(spec: OptimizerSpec<H>, params: Iterable<Parameter> | GroupSpec<H>[], defaults: Partial<H>) {
    this.#spec = spec;
    const { name } = spec;
    const keys = Object.keys(spec.hyper) as (keyof H & string)[];
    const d = checkOptions(`${name} defaults`, defaults, Object.fromEntries(keys.map((k) => {
      const h = spec.hyper[k];
      return [k, h.default === undefined ? h.rule : h.rule.default(h.default)];
    }))) as H;
    checkArg(name, 'params', params, iterableOfParameters);
    const list = [...params] as (Parameter | GroupSpec<H>)[];
    const specs = list.length > 0 && !(list[0] instanceof Parameter) ? (list as GroupSpec<H>[]) : [{ params: list as Parameter[] } as unknown as GroupSpec<H>];
    this.paramGroups = specs.map((s, i) => {
      const where = `${name} group ${i}`;
      const g = checkOptions(where, s, {
        params: iterableOfParameters,
        lrScale: lrScaleRule,
        ...Object.fromEntries(keys.map((k) => [k, spec.hyper[k].rule.default(d[k])])),
      }) as unknown as H & { params: Iterable<Parameter>; lrScale?: number };
      const group = { ...g, params: [...g.params], initialLr: g.lr } as H & GroupExtras;
      if (group.lrScale === undefined) delete group.lrScale;
      if (group.params.some((p) => !(p instanceof Parameter))) {
        throw typeError('ERR_FINETORCH_INVALID_ARG', `${where}: params must hold Parameters (net.parameters())`);
      }
      spec.check?.(group, where);
      return group;
    });
    const all = this.paramGroups.flatMap((g) => g.params);
    if (all.length === 0) throw rangeError('ERR_FINETORCH_INVALID_ARG', `${name}: optimizer got an empty parameter list`);
    if (new Set(all.map((p) => p.name)).size !== all.length) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `${name}: some parameters appear in more than one parameter group`);
    }
    const model = all[0].owner;
    if (all.some((p) => p.owner !== model)) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `${name}: all parameters must belong to one model`);
    }
    this.#model = model;
    const nativeOptimizer = new native.Optimizer({ kind: spec.kind, groups: this.paramGroups.map((g) => g.params.map((p) => p.name)) });
    this.#nativeOptimizer = nativeOptimizer;
    // Bound in queue order: like torch.optim, it steps the tensors it was given, even if fc is
    // replaced later.
    model.queue.post(name, () => nativeOptimizer.attach(model.handle));
  }

  /** Steps taken so far (kept in checkpoints). */
  get stepCount(): number {
    return this.#stepCount;
  }

  /** @internal See {@link StepOptimizer.stepFor}. */
  stepFor(model: ParameterOwner): <R>(update: (o: NativeOptimizerStep) => Promise<R>) => Promise<R> {
    if (model !== this.#model) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', 'this optimizer was made for the parameters of another model');
    }
    return async (update) => {
      const result = await update({ optimizer: this.#nativeOptimizer, groups: this.#groupOptions() });
      this.#stepCount++;
      return result;
    };
  }

  /** @internal The step count a checkpoint recorded, for the optimizer that resumes it. */
  restoreStepCount(steps: number): void {
    this.#stepCount = checkArg(this.#spec.name, 'stepCount', steps, int({ min: 0 }));
  }

  /** Current group hyper-parameters, validated as at construction. */
  #groupOptions(): NativeGroupOptions[] {
    const spec = this.#spec;
    return this.paramGroups.map((g, i) => {
      const where = `${spec.name} group ${i}`;
      for (const k of Object.keys(spec.hyper) as (keyof H & string)[]) checkArg(where, k, g[k], spec.hyper[k].rule);
      checkArg(where, 'lrScale', g.lrScale, lrScaleRule);
      spec.check?.(g, where);
      return spec.toNative(g);
    });
  }

  /** torch.optim's state_dict: what `torch.optim.<name>(...).load_state_dict` reads (savePth it). */
  async stateDict(): Promise<S> {
    const spec = this.#spec;
    const state = await this.#model.run(`${spec.name}.stateDict`, () => this.#nativeOptimizer.state());
    const { slots } = spec;
    const entries = new Map<number, Record<string, HostTensor>>();
    state.forEach((tensors, i) => tensors && entries.set(i, Object.fromEntries(slots.map((s, k) => [s, tensors[k]]))));
    let index = 0;
    const param_groups = this.paramGroups.map((g) => {
      const group: OptimizerStateDict['param_groups'][number] = { ...this.#torchHyper(g), params: [] };
      for (const [key, flag] of Object.entries(spec.flags)) if ('write' in flag) group[key] = flag.write!;
      group.initial_lr = g.initialLr;
      if (g.lrScale !== undefined) group.lr_scale = g.lrScale;
      // torch puts params last.
      delete (group as { params?: number[] }).params;
      group.params = g.params.map(() => index++);
      return group;
    });
    return { state: entries, param_groups } as S;
  }

  /**
   * Loads a state_dict in torch.optim's layout: this optimizer's own, or one torch.optim's
   * state_dict() made for the same parameter groups (read with readPth; its dicts are Maps).
   * Every hyper-parameter is checked before anything changes; a flag finetorch cannot honour
   * (AdamW's amsgrad, maximize) is refused.
   */
  async loadStateDict(stateDict: OptimizerStateDict | Map<PthValue, PthValue>): Promise<void> {
    const { name } = this.#spec;
    const fail = (message: string) => new FinetorchError('ERR_FINETORCH_STATE_DICT', `${name}.loadStateDict: ${message}`);
    const root = asRecord(stateDict);
    const groups = root?.param_groups;
    const given = root?.state;
    if (!Array.isArray(groups) || !(given instanceof Map)) throw fail('not an optimizer state_dict (state and param_groups)');
    if (groups.length !== this.paramGroups.length) {
      throw fail(`it holds ${groups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    const updates = groups.map((raw, i) => this.#readGroup(asRecord(raw), i, fail));
    const count = this.paramGroups.reduce((n, g) => n + g.params.length, 0);
    const state = Array.from({ length: count }, (_, i) => readEntry(asRecord(given.get(i) as PthValue), this.#spec.slots, i, fail));
    for (const key of given.keys()) {
      if (!(typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < count)) throw fail(`state has an entry ${describe(key)} for no parameter`);
    }
    await this.#model.run(`${name}.loadStateDict`, () => this.#nativeOptimizer.loadState({ state }));
    updates.forEach((u, i) => {
      Object.assign(this.paramGroups[i], u);
      if (u.lrScale === undefined) delete this.paramGroups[i].lrScale;
    });
  }

  #torchHyper(g: H): Record<string, PthValue> {
    const { hyper } = this.#spec;
    return Object.fromEntries((Object.keys(hyper) as (keyof H & string)[]).map((k) => {
      const v = g[k] as PthValue;
      return [hyper[k].torch, Array.isArray(v) ? Object.freeze([...(v as readonly PthValue[])]) : v];
    }));
  }

  /** A saved group's settings, checked, as this optimizer's group fields. */
  #readGroup(raw: Record<string, PthValue> | undefined, i: number, fail: (m: string) => Error): Partial<H & GroupExtras> {
    const spec = this.#spec;
    if (!raw) throw fail(`param_groups[${i}] is not a dict`);
    const params = raw.params;
    if (!Array.isArray(params) || params.length !== this.paramGroups[i].params.length) {
      throw fail(`param_groups[${i}] holds ${Array.isArray(params) ? params.length : 'no'} parameters, this optimizer's group ${i} has ${this.paramGroups[i].params.length}`);
    }
    const known = new Set(['params', 'initial_lr', 'lr_scale', ...Object.keys(spec.flags)]);
    const out: Record<string, unknown> = {};
    const read = <T>(torchKey: string, rule: Rule<T>): T => {
      try {
        return checkArg(`param_groups[${i}]`, torchKey, raw[torchKey], rule);
      } catch (err) {
        throw fail((err as Error).message);
      }
    };
    for (const k of Object.keys(spec.hyper) as (keyof H & string)[]) {
      const h = spec.hyper[k];
      known.add(h.torch);
      if (!(h.torch in raw)) throw fail(`param_groups[${i}] has no '${h.torch}'`);
      out[k] = read(h.torch, h.rule);
    }
    for (const [key, flag] of Object.entries(spec.flags)) {
      if (key in raw && !flag.honoured(raw[key])) throw fail(`param_groups[${i}] has ${key} ${describe(raw[key])}, which finetorch's ${spec.name} does not implement`);
    }
    const unknown = Object.keys(raw).filter((k) => !known.has(k));
    if (unknown.length > 0) throw fail(`param_groups[${i}] has keys finetorch's ${spec.name} does not know: ${unknown.join(', ')}`);
    try {
      spec.check?.(out as H, `param_groups[${i}]`);
    } catch (err) {
      throw fail((err as Error).message);
    }
    out.initialLr = 'initial_lr' in raw ? read('initial_lr', num({ min: 0 })) : out.lr;
    out.lrScale = read('lr_scale', lrScaleRule);
    return out as Partial<H & GroupExtras>;
  }
}

/** A dict as a record (a Map from readPth, or a plain object); undefined for anything else. */
function asRecord(value: unknown): Record<string, PthValue> | undefined {
  if (value instanceof Map) return Object.fromEntries(value) as Record<string, PthValue>;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)) return value as Record<string, PthValue>;
  return undefined;
}

/**
 * One parameter's saved state in slot order, or null where it has none (torch's SGD saves None
 * buffers). A number (a step count as torch before 1.12 saved it) becomes a float32 scalar.
 */
function readEntry(entry: Record<string, PthValue> | undefined, slots: readonly string[], i: number, fail: (m: string) => Error): HostTensor[] | null {
  if (!entry) return null;
  const present = Object.entries(entry).filter(([, v]) => v !== null);
  if (present.length === 0) return null;
  const unknown = present.map(([k]) => k).filter((k) => !slots.includes(k));
  if (unknown.length > 0) throw fail(`state[${i}] has ${unknown.join(', ')}, which this optimizer does not keep`);
  return slots.map((slot) => {
    const t = entry[slot];
    if (typeof t === 'number') return { dtype: 'float32', shape: [], data: Float32Array.of(t) };
    if (t === undefined || t === null || typeof t !== 'object' || !('dtype' in t)) throw fail(`state[${i}] has no tensor '${slot}'`);
    return t as HostTensor;
  });
}
