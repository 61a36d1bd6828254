// finetorch weights, its interface: the subcommand (list, get, import), its arguments and flags,
// their checks and help. The listing, download and import live in run/weights.ts.
import { didYouMean } from '../../base/check';
import { ARCH_NAMES, Arch } from '../../model/resnet-architectures';
import { BASE_URL_ENV, checkArch } from '../../model/torchvision-weights';
import { Command, CommandSpec, Parsed, UsageError } from '../args';

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
    return (await import('../run/weights')).weights({ sub: 'list', json: flags.flag('json') });
  }
  if (sub === 'import') {
    if (arch === undefined) throw new UsageError("missing file: 'weights import FILE'");
    for (const name of ['weights', 'base-url', 'verify']) {
      if (flags.string(name) !== spec.options[name].default || flags.flag(name)) throw new UsageError(`--${name} applies to 'weights get' only`);
    }
    return (await import('../run/weights')).weights({ sub: 'import', file: arch, modelDir: flags.string('model-dir'), json: flags.flag('json') });
  }
  if (arch === undefined) throw new UsageError("missing architecture: 'weights get ARCH'");
  let checked: Arch;
  try {
    checked = checkArch('weights get', arch);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^weights get: arch/, 'ARCH'));
  }
  return (await import('../run/weights')).weights({
    sub: 'get', arch: checked, weights: flags.string('weights'), modelDir: flags.string('model-dir'), baseUrl: flags.string('base-url'),
    verify: flags.flag('verify'), json: flags.flag('json'),
  });
}

export const command: Command = { spec, run };
