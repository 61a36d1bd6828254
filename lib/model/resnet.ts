// ResNet: a torchvision ResNet (resnet18 ... wide_resnet101_2) as a Model (model/model.ts), made
// afresh, loaded from a .pth or .safetensors file, or taken from the weights published for it
// (torchvision's, timm's on the Hugging Face Hub).
import { ARCH_NAMES, ARCHITECTURES, Arch, ResNetConfig, featuresOf, inferArch, resnetTree } from './resnet-architectures';
import { moduleRepr, reprStyle } from './module-tree';
import { native, NativeModel } from '../base/binding';
import { bool, checkArg, checkOptions, int, oneOf, str } from '../base/check';
import { FinetorchError, typeError } from '../base/errors';
import type { OnnxSource } from '../export/export';
import { HostTensor } from '../base/tensor';
import {
  DEFAULT_MAX_CLASSES, Device, Linear, Model, deviceRule, numClassesRule, readWeights, seedRule,
} from './model';
import { resnetSource } from './resnet-onnx';
import { PRETRAINED_RULES, PretrainedOptions, pretrainedWeights } from './torchvision-weights';
import type { HubDownloadOptions } from './timm-weights';
import { isHubId } from './timm-ids';

export type { Arch, ResNetConfig } from './resnet-architectures';

const archRule = oneOf(ARCH_NAMES);

export interface CreateOptions {
  /** torchvision's architecture name; default 'resnet18'. */
  arch?: Arch;
  /** Outputs of fc; default 1000. */
  numClasses?: number;
  /** Seeds the initialisation as torch.manual_seed(seed) before torchvision's constructor would. Default 0. */
  seed?: number;
  device?: Device;
}

export interface LoadOptions {
  /** The architecture the file must hold; inferred from its keys and shapes when absent. */
  arch?: Arch;
  strict?: boolean;
  device?: Device;
  /** A state dict whose fc has more classes is refused before any allocation; default 100,000. */
  maxClasses?: number;
}

/** {@link ResNet.pretrained}'s options: the architecture, the weights and their download, the device. */
export interface PretrainedModelOptions extends PretrainedOptions {
  /** One of torchvision's ResNet family names (default 'resnet18'). */
  arch?: Arch;
  device?: Device;
}

/** {@link ResNet.pretrained}'s options for an 'hf-hub:' id: the download (revision, cache, token, ...) and the device. */
export interface HubModelOptions extends HubDownloadOptions {
  device?: Device;
}

/** Why loading takes no class count (timm's create_model(..., num_classes) does). */
const CLASSES_FROM_WEIGHTS = {
  numClasses: "the number of classes comes from the weights (fc.weight's rows); net.replaceFc(numClasses) then gives the model " +
    'a new fc of that many outputs',
};

/** A torchvision ResNet with its fc head. */
export class ResNet extends Model {
  readonly arch: Arch;
  readonly config: ResNetConfig;

  /** @internal */
  protected constructor(arch: Arch, handle: NativeModel, numClasses: number, parameters: { name: string; shape: number[] }[]) {
    super(handle, numClasses, parameters);
    this.arch = arch;
    this.config = ARCHITECTURES[arch];
  }

  /** A randomly initialised ResNet, as torchvision.models.<arch>(num_classes=...). */
  static async create(options: CreateOptions = {}): Promise<ResNet> {
    const o = checkOptions('ResNet.create', options, {
      arch: archRule.default('resnet18'),
      numClasses: numClassesRule.default(1000),
      seed: seedRule.default(0),
      device: deviceRule.orUndefined(),
    });
    const config = ARCHITECTURES[o.arch];
    const { model, parameters } = await native.createModel({ family: 'resnet', ...config, numClasses: o.numClasses, seed: o.seed });
    const net = new ResNet(o.arch, model, o.numClasses, parameters);
    if (o.device) await net.to(o.device);
    return net;
  }

  /**
   * Pretrained ImageNet weights, taken from the cache their source shares with Python and
   * downloaded into it first when missing (see {@link pretrainedWeights}):
   * - torchvision's for `arch` (default resnet18), as `torchvision.models.<arch>(weights='DEFAULT')`.
   *   `ResNet.pretrained('resnet50', { weights: 'IMAGENET1K_V1' })` is short for
   *   `ResNet.pretrained({ arch: 'resnet50', weights: 'IMAGENET1K_V1' })`;
   * - timm's from the Hugging Face Hub, as `timm.create_model('hf-hub:timm/resnet50.a1_in1k',
   *   pretrained=True)`: `ResNet.pretrained('hf-hub:timm/resnet50.a1_in1k', { revision, device })`.
   */
  static async pretrained(source: PretrainedModelOptions | Arch | `hf-hub:${string}` = {}, options: PretrainedModelOptions | HubModelOptions = {}): Promise<ResNet> {
    if (isHubId(source)) {
      const { device, ...download } = options as HubModelOptions;
      const { file, arch, config, repoId } = await pretrainedWeights(source, download);
      if (config.vit) {
        throw new FinetorchError('ERR_FINETORCH_HUB', `${repoId}: holds timm's ${arch}, a Vision Transformer: VisionTransformer.pretrained('${source}') loads it`);
      }
      const net = await ResNet.load(file, { arch: arch as Arch, device });
      if (net.numClasses !== config.numClasses) {
        net.dispose();
        throw new FinetorchError('ERR_FINETORCH_HUB', `${repoId}: config.json says ${config.numClasses} classes, the weights' fc has ${net.numClasses}`);
      }
      return net;
    }
    if (typeof source !== 'string' && Object.keys(options).length) {
      throw typeError('ERR_FINETORCH_INVALID_ARG', 'ResNet.pretrained: with an options object first, there is no second argument ' +
        "(ResNet.pretrained({ arch, weights, device }), or ResNet.pretrained('resnet50', { weights, device }))");
    }
    const given = typeof source === 'string' ? { ...options as PretrainedModelOptions, arch: source } : source;
    checkOptions('ResNet.pretrained', given, { ...PRETRAINED_RULES, arch: archRule.orUndefined(), device: deviceRule.orUndefined() },
      CLASSES_FROM_WEIGHTS);
    const { arch = 'resnet18', device, ...weights } = given;
    return ResNet.load((await pretrainedWeights(arch, weights)).file, { arch, device });
  }

  /**
   * Loads a torchvision ResNet state dict from a .pth (either torch.save format) or a .safetensors
   * file (timm's and Hugging Face's), told apart by content; the architecture and the number of
   * classes are read off its keys and shapes, and checked before the model is built.
   */
  static async load(file: string, options: LoadOptions = {}): Promise<ResNet> {
    checkArg('ResNet.load', 'file', file, str());
    const o = checkOptions('ResNet.load', options, {
      arch: archRule.orUndefined(),
      strict: bool().default(true),
      device: deviceRule.orUndefined(),
      maxClasses: int({ min: 1 }).default(DEFAULT_MAX_CLASSES),
    }, CLASSES_FROM_WEIGHTS);
    const weights = await readWeights(file);
    const { shapes } = weights;
    const { arch, numClasses } = inferArch(shapes, file);
    if (o.arch && o.arch !== arch) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: holds a ${arch} state dict, not the ${o.arch} asked for`);
    }
    const fcIn = shapes.get('fc.weight')![1];
    if (fcIn !== featuresOf(ARCHITECTURES[arch])) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: fc.weight has ${fcIn} inputs, ${arch}'s fc takes ${featuresOf(ARCHITECTURES[arch])}`);
    }
    if (numClasses < 1 || numClasses > o.maxClasses) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: fc.weight declares ${numClasses} classes, ` +
        `outside 1..${o.maxClasses} (pass maxClasses to allow more)`);
    }
    return (await ResNet.create({ arch, numClasses })).adopt(weights, o.strict, o.device);
  }

  get classifierName(): string {
    return 'fc';
  }

  get numFeatures(): number {
    return featuresOf(this.config);
  }

  get fc(): Linear {
    return this.getClassifier();
  }

  /** Replaces fc with a fresh Linear(fc.inFeatures, numClasses); every other layer keeps its values (see {@link Model.resetClassifier}). */
  replaceFc(numClasses: number, options: { init?: 'default' | 'xavier'; seed?: number } = {}): Linear {
    return this.resetClassifier(numClasses, options);
  }

  toString(): string {
    return moduleRepr(this.withHead(resnetTree(this.config, this.numClasses, reprStyle(native.runtime.torchVersion))));
  }

  /** @internal */
  protected onnxSource(stateDict: () => Promise<Map<string, HostTensor>>): OnnxSource {
    return resnetSource(this.arch, this.numClasses, this.headKind, stateDict);
  }
}

/** torchvision's resnet18 (ResNet with arch 'resnet18'), the model of the d2l fine-tuning chapter. */
export class ResNet18 extends ResNet {
  static async create(options: Omit<CreateOptions, 'arch'> & { arch?: 'resnet18' } = {}): Promise<ResNet> {
    return ResNet.create({ ...options, arch: checkArg('ResNet18.create', 'arch', options.arch, oneOf(['resnet18']).default('resnet18')) });
  }

  static async load(file: string, options: Omit<LoadOptions, 'arch'> & { arch?: 'resnet18' } = {}): Promise<ResNet> {
    return ResNet.load(file, { ...options, arch: 'resnet18' });
  }

  /** resnet18's ImageNet weights, as `resnet18(weights='DEFAULT')` (see {@link ResNet.pretrained}). */
  static async pretrained(options: Omit<PretrainedModelOptions, 'arch'> & { arch?: 'resnet18' } = {}): Promise<ResNet> {
    return ResNet.pretrained({ ...options, arch: checkArg('ResNet18.pretrained', 'arch', options.arch, oneOf(['resnet18']).default('resnet18')) });
  }
}
