// SGD with parameter groups, mirroring torch.optim.SGD: groups fill what they leave out from the
// defaults, validation as PyTorch's, `opt.paramGroups[i].lr = x` takes effect at the next step.
// Every native call of an optimizer runs on its model's queue, in call order with the steps.
import { native, NativeOptimizerStep, NativeSgd, NativeSgdOptions } from '../base/binding';
import { bool, checkArg, checkOptions, custom, int, num } from '../base/check';
import { rangeError, typeError } from '../base/errors';
import { Model, Parameter, StepOptimizer } from '../model/model';
import type { HostTensor } from '../base/tensor';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export interface ParamGroupSpec extends Partial<SGDOptions> {
  params: Iterable<Parameter>;
}

export interface ParamGroup extends Required<SGDOptions> {
  params: Parameter[];
  /** The lr the group started with; schedules scale it. */
  initialLr: number;
}

/** torch.optim.SGD's state_dict: momentum buffers indexed by position across the groups. */
export interface SGDStateDict {
  state: Map<number, { momentum_buffer: HostTensor }>;
  param_groups: Array<Omit<ParamGroup, 'params'> & { params: number[] }>;
}

// torch.optim.SGD's checks: lr, momentum and weight_decay non-negative.
const HYPER_PARAMETERS = {
  lr: num({ min: 0 }),
  momentum: num({ min: 0 }),
  dampening: num(),
  weightDecay: num({ min: 0 }),
  nesterov: bool(),
};
const iterableOfParameters = custom<Iterable<Parameter>>('an iterable of Parameters',
  (v) => typeof v === 'object' && v !== null && Symbol.iterator in v);

export class SGD implements StepOptimizer {
  readonly paramGroups: ParamGroup[];
  readonly #model: Model;
  readonly #nativeSgd: NativeSgd;
  #stepCount = 0;

  constructor(params: Iterable<Parameter> | ParamGroupSpec[], defaults: SGDOptions) {
    const d = checkOptions('SGD defaults', defaults, {
      ...HYPER_PARAMETERS,
      momentum: HYPER_PARAMETERS.momentum.default(0),
      dampening: HYPER_PARAMETERS.dampening.default(0),
      weightDecay: HYPER_PARAMETERS.weightDecay.default(0),
      nesterov: HYPER_PARAMETERS.nesterov.default(false),
    });
    checkArg('SGD', 'params', params, iterableOfParameters);
    const list = [...params] as (Parameter | ParamGroupSpec)[];
    const specs: ParamGroupSpec[] = list.length > 0 && !(list[0] instanceof Parameter) ? (list as ParamGroupSpec[]) : [{ params: list as Parameter[] }];
    this.paramGroups = specs.map((spec, i) => {
      const g = checkOptions(`SGD group ${i}`, spec, {
        params: iterableOfParameters,
        lr: HYPER_PARAMETERS.lr.default(d.lr),
        momentum: HYPER_PARAMETERS.momentum.default(d.momentum),
        dampening: HYPER_PARAMETERS.dampening.default(d.dampening),
        weightDecay: HYPER_PARAMETERS.weightDecay.default(d.weightDecay),
        nesterov: HYPER_PARAMETERS.nesterov.default(d.nesterov),
      });
      const group: ParamGroup = { ...g, params: [...g.params], initialLr: g.lr };
      if (group.params.some((p) => !(p instanceof Parameter))) {
        throw typeError('ERR_FINETORCH_INVALID_ARG', `SGD group ${i}: params must hold Parameters (net.parameters())`);
      }
      checkNesterov(group, i);
      return group;
    });
    const all = this.paramGroups.flatMap((g) => g.params);
    if (all.length === 0) throw rangeError('ERR_FINETORCH_INVALID_ARG', 'SGD: optimizer got an empty parameter list');
    if (new Set(all.map((p) => p.name)).size !== all.length) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', 'SGD: some parameters appear in more than one parameter group');
    }
    this.#model = all[0].owner;
    if (all.some((p) => p.owner !== this.#model)) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', 'SGD: all parameters must belong to one model');
    }
    this.#nativeSgd = new native.SGD({ groups: this.paramGroups.map((g) => g.params.map((p) => p.name)) });
    // Bound in queue order: like torch.optim.SGD, it steps the tensors it was given, even if fc is
    // replaced later.
    this.#model.queue.post('SGD', () => this.#nativeSgd.attach(this.#model.handle));
  }

  /** Steps taken so far (kept in checkpoints). */
  get stepCount(): number {
    return this.#stepCount;
  }

  /** @internal See {@link StepOptimizer.stepFor}. */
  stepFor(model: Model): <R>(update: (o: NativeOptimizerStep) => Promise<R>) => Promise<R> {
    if (model !== this.#model) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', 'this optimizer was made for the parameters of another model');
    }
    return async (update) => {
      const result = await update({ optimizer: this.#nativeSgd, groups: this.#groupOptions() });
      this.#stepCount++;
      return result;
    };
  }

  /** @internal The step count a checkpoint recorded, for the optimizer that resumes it. */
  restoreStepCount(steps: number): void {
    this.#stepCount = checkArg('SGD', 'stepCount', steps, int({ min: 0 }));
  }

  /** Current group hyper-parameters, validated as at construction. */
  #groupOptions(): NativeSgdOptions[] {
    return this.paramGroups.map((g, i) => {
      const where = `SGD group ${i}`;
      const o = {
        lr: checkArg(where, 'lr', g.lr, HYPER_PARAMETERS.lr),
        momentum: checkArg(where, 'momentum', g.momentum, HYPER_PARAMETERS.momentum),
        dampening: checkArg(where, 'dampening', g.dampening, HYPER_PARAMETERS.dampening),
        weightDecay: checkArg(where, 'weightDecay', g.weightDecay, HYPER_PARAMETERS.weightDecay),
        nesterov: checkArg(where, 'nesterov', g.nesterov, HYPER_PARAMETERS.nesterov),
      };
      checkNesterov(o, i);
      return o;
    });
  }

  async stateDict(): Promise<SGDStateDict> {
    const buffers = await this.#model.run('optimizer.stateDict', () => this.#nativeSgd.momentumBuffers());
    const state = new Map<number, { momentum_buffer: HostTensor }>();
    buffers.forEach((b, i) => b && state.set(i, { momentum_buffer: b }));
    let index = 0;
    const param_groups = this.paramGroups.map(({ params, ...options }) => ({ ...options, params: params.map(() => index++) }));
    return { state, param_groups };
  }

  async loadStateDict(stateDict: SGDStateDict): Promise<void> {
    const groups = stateDict.param_groups;
    if (groups.length !== this.paramGroups.length || groups.some((g, i) => g.params.length !== this.paramGroups[i].params.length)) {
      throw rangeError('ERR_FINETORCH_STATE_DICT', 'loaded optimizer state does not match this optimizer\'s parameter groups');
    }
    const count = this.paramGroups.reduce((n, g) => n + g.params.length, 0);
    const buffers = Array.from({ length: count }, (_, i) => stateDict.state.get(i)?.momentum_buffer ?? null);
    await this.#model.run('optimizer.loadStateDict', () => this.#nativeSgd.loadMomentumBuffers({ buffers }));
    groups.forEach(({ params: _params, ...options }, i) => Object.assign(this.paramGroups[i], options));
  }
}

function checkNesterov(group: { nesterov: boolean; momentum: number; dampening: number }, i: number): void {
  if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `SGD group ${i}: Nesterov momentum requires a momentum and zero dampening`);
  }
}
