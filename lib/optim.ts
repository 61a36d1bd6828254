// SGD with parameter groups, mirroring torch.optim.SGD: groups fill what they leave out from the
// defaults, validation as PyTorch's, `opt.paramGroups[i].lr = x` takes effect at the next step.
import { native, NativeSgd, NativeSgdOptions } from './binding';
import type { Parameter, ResNet18 } from './model';
import type { HostTensor } from './tensor';

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

function checkOptions(o: Partial<SGDOptions>, where: string): void {
  const bad = (what: string, v: unknown) => new RangeError(`SGD ${where}: invalid ${what} value: ${String(v)}`);
  if (o.lr !== undefined && !(o.lr >= 0)) throw bad('learning rate', o.lr);
  if (o.momentum !== undefined && !(o.momentum >= 0)) throw bad('momentum', o.momentum);
  if (o.dampening !== undefined && !Number.isFinite(o.dampening)) throw bad('dampening', o.dampening);
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw bad('weight_decay', o.weightDecay);
}

export class SGD {
  readonly paramGroups: ParamGroup[];
  /** Steps taken so far (kept in checkpoints). */
  stepCount = 0;
  private readonly model: ResNet18;
  private readonly nativeSgd: NativeSgd;

  constructor(params: Iterable<Parameter> | ParamGroupSpec[], defaults: SGDOptions) {
    if (defaults === undefined || defaults.lr === undefined) throw new TypeError('SGD: defaults.lr is required');
    checkOptions(defaults, 'defaults');
    const list = [...params] as (Parameter | ParamGroupSpec)[];
    const specs: ParamGroupSpec[] = list.length > 0 && 'params' in list[0] ? (list as ParamGroupSpec[]) : [{ params: list as Parameter[] }];
    this.paramGroups = specs.map((spec, i) => {
      checkOptions(spec, `group ${i}`);
      const group: ParamGroup = {
        params: [...spec.params],
        lr: spec.lr ?? defaults.lr,
        momentum: spec.momentum ?? defaults.momentum ?? 0,
        dampening: spec.dampening ?? defaults.dampening ?? 0,
        weightDecay: spec.weightDecay ?? defaults.weightDecay ?? 0,
        nesterov: spec.nesterov ?? defaults.nesterov ?? false,
        initialLr: spec.lr ?? defaults.lr,
      };
      if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
        throw new RangeError(`SGD group ${i}: Nesterov momentum requires a momentum and zero dampening`);
      }
      return group;
    });
    const all = this.paramGroups.flatMap((g) => g.params);
    if (all.length === 0) throw new RangeError('SGD: optimizer got an empty parameter list');
    if (new Set(all.map((p) => p.name)).size !== all.length) {
      throw new RangeError('SGD: some parameters appear in more than one parameter group');
    }
    this.model = all[0].owner;
    if (all.some((p) => p.owner !== this.model)) throw new RangeError('SGD: all parameters must belong to one model');
    this.nativeSgd = new native.SGD(this.model.native, this.paramGroups.map((g) => g.params.map((p) => p.name)));
  }

  /** The native optimizer, checked against the model that steps it. */
  nativeFor(model: ResNet18): NativeSgd {
    if (model !== this.model) throw new Error('this optimizer was made for the parameters of another model');
    return this.nativeSgd;
  }

  /** Current group hyper-parameters, validated as at construction. */
  groupOptions(): NativeSgdOptions[] {
    return this.paramGroups.map((g, i) => {
      checkOptions(g, `group ${i}`);
      return { lr: g.lr, momentum: g.momentum, dampening: g.dampening, weightDecay: g.weightDecay, nesterov: g.nesterov };
    });
  }

  async stateDict(): Promise<SGDStateDict> {
    const buffers = await this.nativeSgd.momentumBuffers();
    const state = new Map<number, { momentum_buffer: HostTensor }>();
    buffers.forEach((b, i) => b && state.set(i, { momentum_buffer: b }));
    let index = 0;
    const param_groups = this.paramGroups.map(({ params, ...options }) => ({ ...options, params: params.map(() => index++) }));
    return { state, param_groups };
  }

  async loadStateDict(stateDict: SGDStateDict): Promise<void> {
    const groups = stateDict.param_groups;
    if (groups.length !== this.paramGroups.length || groups.some((g, i) => g.params.length !== this.paramGroups[i].params.length)) {
      throw new Error('loaded optimizer state does not match this optimizer\'s parameter groups');
    }
    const count = this.paramGroups.reduce((n, g) => n + g.params.length, 0);
    await this.nativeSgd.loadMomentumBuffers(Array.from({ length: count }, (_, i) => stateDict.state.get(i)?.momentum_buffer ?? null));
    groups.forEach(({ params: _params, ...options }, i) => Object.assign(this.paramGroups[i], options));
  }
}
