// finetorch weights: torchvision's pretrained ResNet weights and MAE's pre-trained ViT encoders in
// torch.hub's cache (list, get).
import { ARCH_NAMES, Arch } from '../architectures';
import {
  BASE_URL_ENV, MAE_BASE_URL_ENV, MAE_WEIGHTS_NAMES, MaeWeightsName, checkArch, hubDir, listWeights, maePretrainedWeights, pretrainedWeights,
} from '../hub';
import { didYouMean } from '../check';
import { CommandSpec, Parsed, UsageError } from './args';
import type { Command } from './main';
import { table } from './table';

const SUBCOMMANDS = ['list', 'get'];

const spec: CommandSpec = {
  name: 'weights',
  usage: ['weights list [--json]', 'weights get ARCH|MAE_NAME [--weights NAME] [--model-dir DIR] [--base-url URL] [--verify] [--json]'],
  positionals: { min: 1, max: 2 },
  options: {
    weights: { type: 'string', value: 'NAME', default: 'DEFAULT', help: "torchvision's weights name: DEFAULT, IMAGENET1K_V1, IMAGENET1K_V2" },
    'model-dir': { type: 'string', value: 'DIR', help: "the cache folder (default: torch.hub's, $TORCH_HOME/hub/checkpoints)" },
    'base-url': {
      type: 'string', value: 'URL',
      help: `where the files are published (default: $${BASE_URL_ENV}, else download.pytorch.org/models/; MAE's: $${MAE_BASE_URL_ENV}, ` +
        'else dl.fbaipublicfiles.com/mae/pretrain/)',
    },
    verify: { type: 'boolean', help: 'check the hash of a file already in the cache too (SHA-256 prefix; MAE\'s: MD5 prefix)' },
    json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  },
  notes: [
    `Architectures: ${ARCH_NAMES.join(', ')}. 'get' prints the .pth file's path on stdout (downloading it first when it ` +
      "is not in the cache, with a progress line on stderr when that is a terminal); PyTorch's " +
      "torchvision.models.resnet18(weights='DEFAULT') finds and uses the same file. DEFAULT is torchvision's: " +
      'IMAGENET1K_V2 where published, else IMAGENET1K_V1. An interrupted download resumes on the next call.',
    `MAE's pre-trained ViT encoders: ${MAE_WEIGHTS_NAMES.join(', ')} (no head; checked against the MD5 prefix MAE's README publishes).`,
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
  if (arch === undefined) throw new UsageError("missing architecture: 'weights get ARCH'");
  if ((MAE_WEIGHTS_NAMES as readonly string[]).includes(arch)) {
    if (flags.string('weights') !== spec.options.weights.default) throw new UsageError(`--weights applies to torchvision's weights, not ${arch}`);
    const mae = await maePretrainedWeights(arch as MaeWeightsName, { modelDir: flags.string('model-dir'), baseUrl: flags.string('base-url'), verifyCached: flags.flag('verify') });
    return report(mae, mae.name, flags.flag('json'));
  }
  let checked: Arch;
  try {
    checked = checkArch('weights get', arch);
  } catch (err) {
    const meant = didYouMean(arch, [...ARCH_NAMES, ...MAE_WEIGHTS_NAMES]);
    throw new UsageError(meant ? `ARCH must be one of ${ARCH_NAMES.join(', ')} or ${MAE_WEIGHTS_NAMES.join(', ')}, got '${arch}' (did you mean '${meant}'?)`
      : (err as Error).message.replace(/^weights get: arch/, 'ARCH'));
  }
  const got = await pretrainedWeights(checked, {
    weights: flags.string('weights'), modelDir: flags.string('model-dir'), baseUrl: flags.string('base-url'), verifyCached: flags.flag('verify'),
  });
  return report(got, got.enumName, flags.flag('json'));
}

/** The file on stdout (or everything as JSON), where it came from on stderr. */
function report(got: { file: string; url: string; downloaded: boolean }, name: string, json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(got, null, 2)}\n`);
  } else {
    process.stderr.write(`${name}: ${got.downloaded ? `downloaded from ${got.url}` : 'already in the cache'}\n`);
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
