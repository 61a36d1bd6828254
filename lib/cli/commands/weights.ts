// finetorch weights, its interface: the subcommand (list, get, import), its arguments and flags,
// their checks and help. Pretrained weights come from three sources: torchvision's ResNets and
// MAE's ViT encoders in torch.hub's cache, timm's ResNets and ViTs on the Hugging Face Hub in the Hub cache;
// the listing, downloads and import live in run/weights.ts.
import { didYouMean } from '../../base/check';
import { ARCH_NAMES, Arch } from '../../model/resnet-architectures';
import { MAE_BASE_URL_ENV, MAE_WEIGHTS_NAMES, MaeWeightsName } from '../../model/mae-weights';
import { isHubId } from '../../model/timm-ids';
import { BASE_URL_ENV, checkArch } from '../../model/torchvision-weights';
import { Command, CommandSpec, Flags, Parsed, UsageError } from '../args';
import type { WeightsSettings } from '../settings';

const SUBCOMMANDS = ['list', 'get', 'import'];
const TORCHVISION_FLAGS = ['weights', 'model-dir', 'base-url', 'verify'];
const HUB_FLAGS = ['revision', 'cache-dir', 'offline'];

const spec: CommandSpec = {
  name: 'weights',
  usage: [
    'weights list [--json]',
    'weights get ARCH [--weights NAME] [--model-dir DIR] [--base-url URL] [--verify] [--json]',
    'weights get MAE_NAME [--model-dir DIR] [--base-url URL] [--verify] [--json]',
    'weights get hf-hub:REPO [--revision REV] [--cache-dir DIR] [--offline] [--json]',
    'weights import FILE [--model-dir DIR] [--json]',
  ],
  positionals: { min: 1, max: 2, what: "'list', 'get ARCH', 'get hf-hub:REPO' or 'import FILE'" },
  options: {
    weights: { type: 'string', value: 'NAME', default: 'DEFAULT', help: "torchvision's weights name: DEFAULT, IMAGENET1K_V1, IMAGENET1K_V2" },
    'model-dir': { type: 'string', value: 'DIR', help: "the cache folder (default: torch.hub's, $TORCH_HOME/hub/checkpoints)" },
    'base-url': {
      type: 'string', value: 'URL',
      help: `where the files are published (default: $${BASE_URL_ENV}, else download.pytorch.org/models/; MAE's: $${MAE_BASE_URL_ENV}, ` +
        'else dl.fbaipublicfiles.com/mae/pretrain/)',
    },
    verify: { type: 'boolean', help: "check the hash of a file already in the cache too (SHA-256 prefix; MAE's: MD5 prefix)" },
    revision: { type: 'string', value: 'REV', help: "hf-hub: a branch, tag or commit (default: main, or what the id names after '@')" },
    'cache-dir': { type: 'string', value: 'DIR', help: 'hf-hub: the Hub cache (default: $HF_HUB_CACHE, else $HF_HOME/hub)' },
    offline: { type: 'boolean', help: 'hf-hub: the cache only, no network (as HF_HUB_OFFLINE=1)' },
    json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  },
  notes: [
    `Architectures: ${ARCH_NAMES.join(', ')}. 'get' prints the weights file's path on stdout (downloading it first when it ` +
      "is not in the cache, with a progress line on stderr when that is a terminal); PyTorch's " +
      "torchvision.models.resnet18(weights='DEFAULT') finds and uses the same file. DEFAULT is torchvision's: " +
      'IMAGENET1K_V2 where published, else IMAGENET1K_V1. An interrupted download resumes on the next call.',
    `MAE's pre-trained ViT encoders: ${MAE_WEIGHTS_NAMES.join(', ')} (no head; checked against the MD5 prefix MAE's README publishes).`,
    "'import FILE' files a copy of a published torchvision file (brought from a machine that has it) into the cache under its " +
      "published name, once its SHA-256 matches that name's hash prefix; 'get' then finds it without network.",
    "An hf-hub: id names timm's weights on the Hugging Face Hub (e.g. hf-hub:timm/resnet50.a1_in1k, hf-hub:timm/vit_base_patch16_224.mae, " +
      'as timm.create_model takes it): ' +
      'config.json and model.safetensors go to the cache huggingface_hub shares (HF_ENDPOINT, HF_TOKEN for gated repos and ' +
      "HF_HUB_OFFLINE are read as it reads them); the architecture comes from config.json (a ViT's heads and model_args too), and so does the eval transform " +
      "that finetorch eval and predict then apply (timm's input size, crop_pct, interpolation, mean and std).",
    'Any --weights of train, eval, predict, export and lr-find takes a file, a torchvision name (an architecture for its DEFAULT ' +
      'weights, or ResNet50_Weights.IMAGENET1K_V2) or an hf-hub: id.',
  ],
};

async function run({ flags, positionals }: Parsed): Promise<number> {
  const [sub, source] = positionals;
  if (!SUBCOMMANDS.includes(sub)) {
    const meant = didYouMean(sub, SUBCOMMANDS);
    throw new UsageError(`unknown subcommand '${sub}'${meant ? ` (did you mean '${meant}'?)` : ''}; use ${SUBCOMMANDS.join(' or ')}`);
  }
  if (sub === 'list') {
    if (source !== undefined) throw new UsageError(`unexpected argument '${source}'`);
    refuseFlags(flags, [...TORCHVISION_FLAGS, ...HUB_FLAGS], "'weights get'");
    return (await import('../run/weights')).weights({ sub: 'list', json: flags.flag('json') });
  }
  if (sub === 'import') {
    if (source === undefined) throw new UsageError("missing file: 'weights import FILE'");
    refuseFlags(flags, [...TORCHVISION_FLAGS.filter((f) => f !== 'model-dir'), ...HUB_FLAGS], "'weights get'");
    return (await import('../run/weights')).weights({ sub: 'import', file: source, modelDir: flags.string('model-dir'), json: flags.flag('json') });
  }
  if (source === undefined) throw new UsageError("missing architecture or Hub id: 'weights get ARCH' or 'weights get hf-hub:REPO'");
  const settings = isHubId(source) ? hubGet(source, flags) : isMaeName(source) ? maeGet(source, flags) : torchvisionGet(source, flags);
  return (await import('../run/weights')).weights(settings);
}

function torchvisionGet(arch: string, flags: Flags): WeightsSettings {
  refuseFlags(flags, HUB_FLAGS, 'hf-hub: ids');
  let checked: Arch;
  try {
    checked = checkArch('weights get', arch);
  } catch (err) {
    const meant = didYouMean(arch, MAE_WEIGHTS_NAMES);
    throw new UsageError(meant ? `ARCH must be one of ${ARCH_NAMES.join(', ')}, an MAE encoder (${MAE_WEIGHTS_NAMES.join(', ')}) ` +
      `or an hf-hub: id, got '${arch}' (did you mean '${meant}'?)`
      : `${(err as Error).message.replace(/^weights get: arch/, 'ARCH')}, an MAE encoder (${MAE_WEIGHTS_NAMES.join(', ')}) or an hf-hub: id`);
  }
  return {
    sub: 'get', arch: checked, weights: flags.string('weights'), modelDir: flags.string('model-dir'), baseUrl: flags.string('base-url'),
    verify: flags.flag('verify'), json: flags.flag('json'),
  };
}

function isMaeName(source: string): source is MaeWeightsName {
  return (MAE_WEIGHTS_NAMES as readonly string[]).includes(source);
}

function maeGet(name: MaeWeightsName, flags: Flags): WeightsSettings {
  refuseFlags(flags, [...HUB_FLAGS, 'weights'], 'torchvision architectures and hf-hub: ids');
  return { sub: 'get-mae', name, modelDir: flags.string('model-dir'), baseUrl: flags.string('base-url'), verify: flags.flag('verify'), json: flags.flag('json') };
}

function hubGet(id: `hf-hub:${string}`, flags: Flags): WeightsSettings {
  refuseFlags(flags, TORCHVISION_FLAGS, 'torchvision architectures');
  return { sub: 'get-hub', id, revision: flags.string('revision'), cacheDir: flags.string('cache-dir'), offline: flags.flag('offline'), json: flags.flag('json') };
}

/** Flags of the other source (or of 'get', given to 'list') are mistakes, not options to ignore. */
function refuseFlags(flags: Flags, names: string[], onlyFor: string): void {
  for (const name of names) {
    if (flags.string(name) !== spec.options[name].default || flags.flag(name)) throw new UsageError(`--${name} applies to ${onlyFor} only`);
  }
}

export const command: Command = { spec, run };
