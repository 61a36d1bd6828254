// finetorch weights: torchvision's pretrained ResNet weights in torch.hub's cache (list, get).
import { ARCH_NAMES, Arch } from '../../model/resnet-architectures';
import { hubDir } from '../../hub/torch-hub';
import { BASE_URL_ENV, PretrainedWeights, checkArch, importWeights, listWeights, pretrainedWeights } from '../../model/torchvision-weights';
import { didYouMean } from '../../base/check';
import { CommandSpec, Parsed, UsageError } from '../args';
import type { Command } from '../main';
import { table } from '../table';

const SUBCOMMANDS = ['list', 'get', 'import'];

const spec: CommandSpec = {
  name: 'weights',
  usage: ['weights list [--json]', 'weights get ARCH [--weights NAME] [--model-dir DIR] [--base-url URL] [--verify] [--json]',
    'weights import FILE [--model-dir DIR] [--json]'],
  positionals: { min: 1, max: 2, what: "'list', 'get ARCH' or 'import FILE'" },
  options: {
    weights: { type: 'string', value: 'NAME', default: 'DEFAULT', help: "torchvision's weights name: DEFAULT, IMAGENET1K_V1, IMAGENET1K_V2" },
    'model-dir': { type: 'string', value: 'DIR', help: "the cache folder (default: torch.hub's, $TORCH_HOME/hub/checkpoints)" },
    'base-url': { type: 'string', value: 'URL', help: `where the files are published (default: $${BASE_URL_ENV}, else download.pytorch.org/models/)` },
    verify: { type: 'boolean', help: 'check the SHA-256 of a file already in the cache too' },
    json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  },
  notes: [
    `Architectures: ${ARCH_NAMES.join(', ')}. 'get' prints the .pth file's path on stdout (downloading it first when it ` +
      "is not in the cache, with a progress line on stderr when that is a terminal); PyTorch's " +
      "torchvision.models.resnet18(weights='DEFAULT') finds and uses the same file. DEFAULT is torchvision's: " +
      'IMAGENET1K_V2 where published, else IMAGENET1K_V1. An interrupted download resumes on the next call.',
    "'import FILE' files a copy of a published file (brought from a machine that has it) into the cache under its " +
      "published name, once its SHA-256 matches that name's hash prefix; 'get' then finds it without network.",
  ],
};

async function run({ flags, positionals }: Parsed): Promise<number> {
  const [sub, arch] = positionals;
  if (!SUBCOMMANDS.includes(sub)) {
    const meant = didYouMean(sub, SUBCOMMANDS);
    throw new UsageError(`unknown subcommand '${sub}'${meant ? ` (did you mean '${meant}'?)` : ''}; use ${SUBCOMMANDS.join(' or ')}`);
  }
  if (sub === 'list') {
    if (arch !== undefined) throw new UsageError(`unexpected argument '${arch}'`);
    for (const name of ['weights', 'model-dir', 'base-url', 'verify']) {
      if (flags.string(name) !== spec.options[name].default || flags.flag(name)) throw new UsageError(`--${name} applies to 'weights get' only`);
    }
    return list(flags.flag('json'));
  }
  if (sub === 'import') {
    if (arch === undefined) throw new UsageError("missing file: 'weights import FILE'");
    for (const name of ['weights', 'base-url', 'verify']) {
      if (flags.string(name) !== spec.options[name].default || flags.flag(name)) throw new UsageError(`--${name} applies to 'weights get' only`);
    }
    return report(await importWeights(arch, { modelDir: flags.string('model-dir') }), `filed in the cache from ${arch}`, flags.flag('json'));
  }
  if (arch === undefined) throw new UsageError("missing architecture: 'weights get ARCH'");
  let checked: Arch;
  try {
    checked = checkArch('weights get', arch);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^weights get: arch/, 'ARCH'));
  }
  const got = await pretrainedWeights(checked, {
    weights: flags.string('weights'), modelDir: flags.string('model-dir'), baseUrl: flags.string('base-url'), verifyCached: flags.flag('verify'),
  });
  return report(got, got.downloaded ? `downloaded from ${got.url}` : 'already in the cache', flags.flag('json'));
}

/** The file in the cache on stdout (what `W="$(finetorch weights get resnet18)"` takes), or all of it as JSON. */
function report(got: PretrainedWeights, how: string, json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(got, null, 2)}\n`);
  } else {
    process.stderr.write(`${got.enumName}: ${how}\n`);
    process.stdout.write(`${got.file}\n`);
  }
  return 0;
}

function list(json: boolean): number {
  const dir = hubDir();
  const all = listWeights();
  if (json) {
    process.stdout.write(`${JSON.stringify({ cache: dir, weights: all }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${table([
    ['arch', 'weights', 'default', 'ImageNet acc@1', 'acc@5', 'params', 'file'],
    ...all.map((w) => [w.arch, w.name, w.isDefault ? 'yes' : '', w.imagenet.acc1.toFixed(3), w.imagenet.acc5.toFixed(3),
      w.numParams.toLocaleString('en-US'), w.fileName]),
  ], [false, false, false, true, true, true, false])}\n\ncache: ${dir}/checkpoints\n`);
  return 0;
}

export const command: Command = { spec, run };
