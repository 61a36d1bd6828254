// finetorch weights: pretrained ResNet weights from their two sources (list, get): torchvision's in
// torch.hub's cache, timm's on the Hugging Face Hub in the Hub cache.
import { ARCH_NAMES, Arch } from '../architectures';
import { BASE_URL_ENV, checkArch, hubDir, importWeights, listWeights, pretrainedWeights } from '../hub';
import { hfHubCache } from '../hub/hf-env';
import { isHubId, listHubWeights } from '../hub/timm-ids';
import { didYouMean } from '../check';
import { CommandSpec, Flags, Parsed, UsageError } from './args';
import type { Command } from './main';
import { table } from './table';

const SUBCOMMANDS = ['list', 'get', 'import'];
const TORCHVISION_FLAGS = ['weights', 'model-dir', 'base-url', 'verify'];
const HUB_FLAGS = ['revision', 'cache-dir', 'offline'];

const spec: CommandSpec = {
  name: 'weights',
  usage: [
    'weights list [--json]',
    'weights get ARCH [--weights NAME] [--model-dir DIR] [--base-url URL] [--verify] [--json]',
    'weights get hf-hub:REPO [--revision REV] [--cache-dir DIR] [--offline] [--json]',
    'weights import FILE [--model-dir DIR] [--json]',
  ],
  positionals: { min: 1, max: 2, what: "'list', 'get ARCH', 'get hf-hub:REPO' or 'import FILE'" },
  options: {
    weights: { type: 'string', value: 'NAME', default: 'DEFAULT', help: "torchvision's weights name: DEFAULT, IMAGENET1K_V1, IMAGENET1K_V2" },
    'model-dir': { type: 'string', value: 'DIR', help: "the cache folder (default: torch.hub's, $TORCH_HOME/hub/checkpoints)" },
    'base-url': { type: 'string', value: 'URL', help: `where the files are published (default: $${BASE_URL_ENV}, else download.pytorch.org/models/)` },
    verify: { type: 'boolean', help: 'check the SHA-256 of a file already in the cache too' },
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
    "'import FILE' files a copy of a published torchvision file (brought from a machine that has it) into the cache under its " +
      "published name, once its SHA-256 matches that name's hash prefix; 'get' then finds it without network.",
    "An hf-hub: id names timm's weights on the Hugging Face Hub (e.g. hf-hub:timm/resnet50.a1_in1k, as timm.create_model takes it): " +
      'config.json and model.safetensors go to the cache huggingface_hub shares (HF_ENDPOINT, HF_TOKEN for gated repos and ' +
      "HF_HUB_OFFLINE are read as it reads them); the architecture comes from config.json, and so does the eval transform " +
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
    return list(flags.flag('json'));
  }
  if (sub === 'import') {
    if (source === undefined) throw new UsageError("missing file: 'weights import FILE'");
    refuseFlags(flags, [...TORCHVISION_FLAGS.filter((f) => f !== 'model-dir'), ...HUB_FLAGS], "'weights get'");
    const filed = await importWeights(source, { modelDir: flags.string('model-dir') });
    return report({ result: filed, about: `${filed.enumName}: filed in the cache from ${source}` }, flags.flag('json'));
  }
  if (source === undefined) throw new UsageError("missing architecture or Hub id: 'weights get ARCH' or 'weights get hf-hub:REPO'");
  return report(isHubId(source) ? await getFromHub(source, flags) : await getFromTorchvision(source, flags), flags.flag('json'));
}

/** The file in the cache on stdout (what `W="$(finetorch weights get resnet18)"` takes), or all of it as JSON. */
function report(got: { result: { file: string }; about: string }, json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(got.result, null, 2)}\n`);
  } else {
    process.stderr.write(`${got.about}\n`);
    process.stdout.write(`${got.result.file}\n`);
  }
  return 0;
}

async function getFromTorchvision(arch: string, flags: Flags): Promise<{ result: { file: string }; about: string }> {
  refuseFlags(flags, HUB_FLAGS, 'hf-hub: ids');
  let checked: Arch;
  try {
    checked = checkArch('weights get', arch);
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/^weights get: arch/, 'ARCH')}, or an hf-hub: id`);
  }
  const got = await pretrainedWeights(checked, {
    weights: flags.string('weights'), modelDir: flags.string('model-dir'), baseUrl: flags.string('base-url'), verifyCached: flags.flag('verify'),
  });
  return { result: got, about: `${got.enumName}: ${got.downloaded ? `downloaded from ${got.url}` : 'already in the cache'}` };
}

async function getFromHub(id: `hf-hub:${string}`, flags: Flags): Promise<{ result: { file: string }; about: string }> {
  refuseFlags(flags, TORCHVISION_FLAGS, 'torchvision architectures');
  const got = await pretrainedWeights(id, {
    revision: flags.string('revision'), cacheDir: flags.string('cache-dir'), ...(flags.flag('offline') ? { offline: true } : {}),
  });
  const { config } = got;
  return {
    result: got,
    about: `${got.repoId} at ${got.revision} (commit ${got.commit.slice(0, 12)}): ${got.downloaded ? 'downloaded' : 'already in the cache'}; ` +
      `timm's ${config.architecture}, ${config.numClasses} classes, evaluated at ${config.inputSize[1]} px (crop_pct ${config.cropPct}, ` +
      `${config.interpolation}, mean [${config.mean}], std [${config.std}])`,
  };
}

/** Flags of the other source (or of 'get', given to 'list') are mistakes, not options to ignore. */
function refuseFlags(flags: Flags, names: string[], onlyFor: string): void {
  for (const name of names) {
    if (flags.string(name) !== spec.options[name].default || flags.flag(name)) throw new UsageError(`--${name} applies to ${onlyFor} only`);
  }
}

function list(json: boolean): number {
  const dir = hubDir();
  const all = listWeights();
  const hub = listHubWeights();
  if (json) {
    process.stdout.write(`${JSON.stringify({ cache: dir, weights: all, hub: { cache: hfHubCache(), weights: hub } }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`torchvision (torch.hub cache: ${dir}/checkpoints)\n\n${table([
    ['arch', 'weights', 'default', 'ImageNet acc@1', 'acc@5', 'params', 'file'],
    ...all.map((w) => [w.arch, w.name, w.isDefault ? 'yes' : '', w.imagenet.acc1.toFixed(3), w.imagenet.acc5.toFixed(3),
      w.numParams.toLocaleString('en-US'), w.fileName]),
  ], [false, false, false, true, true, true, false])}\n\n` +
    `timm on the Hugging Face Hub (cache: ${hfHubCache()}); eval and predict use each one's own transform from its config.json\n\n${table([
      ['arch', 'id'], ...hub.map((w) => [w.arch, w.id]),
    ], [false, false])}\n`);
  return 0;
}

export const command: Command = { spec, run };
