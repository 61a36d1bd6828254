#!/usr/bin/env node
// The finetorch command. Each command lives in its own module, loaded only when called (inspect
// and --help never load LibTorch). Usage mistakes exit 2 with the synopsis; any other failure
// exits 1 with one line on stderr (FINETORCH_DEBUG=1 adds the stack). A reader that closes the
// pipe early (`finetorch predict ... | head -1`) ends the command quietly.
import * as os from 'node:os';
import { didYouMean } from '../base/check';
import { packageVersion } from '../base/version';
import { Command, UsageError, helpText, parseCommand, usageText } from './args';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  train: { summary: 'Fine-tune or linear-probe a ResNet or ViT (.pth, .safetensors, torchvision or hf-hub: weights) on a folder of class folders.', load: () => import('./commands/train') },
  'lr-find': { summary: "fastai's learning-rate range test: loss against lr, and a suggested --lr for train.", load: () => import('./commands/lr-find') },
  'mae-pretrain': { summary: "Pretrain a masked autoencoder (MAE's main_pretrain.py) on a folder of images; writes its encoder in MAE's layout.", load: () => import('./commands/mae-pretrain') },
  eval: { summary: 'Accuracy, per-class accuracy and confusion matrix of a model on a folder of class folders.', load: () => import('./commands/eval') },
  predict: { summary: 'Top-k classes with softmax probabilities for each image.', load: () => import('./commands/predict') },
  export: { summary: 'Write a .pth as an ONNX model for ONNX Runtime, with its preprocessing and class names in the metadata.', load: () => import('./commands/export') },
  inspect: { summary: 'Format, keys, dtypes, shapes and sizes of a .pth or .safetensors file (no LibTorch needed).', load: () => import('./commands/inspect') },
  weights: { summary: "Pretrained weights: torchvision's ResNets and MAE's ViT encoders (torch.hub's cache), timm's ResNets on the Hugging Face Hub (its cache): list, get.", load: () => import('./commands/weights') },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: finetorch <command> [options]',
    '',
    'Fine-tunes pretrained torchvision ResNets and Vision Transformers (timm, torchvision, MAE) on LibTorch.',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'finetorch <command> --help' for a command's options; 'finetorch --version' prints the version.",
    '',
  ].join('\n');
}

function fail(command: string, err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`finetorch${command ? ` ${command}` : ''}: error: ${message.split('\n')[0]}\n`);
  if (process.env.FINETORCH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') {
    process.stdout.write(mainHelp());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`finetorch ${packageVersion()}\n`);
    return 0;
  }
  const entry = name === undefined ? undefined : COMMANDS[name];
  if (!entry) {
    const meant = name === undefined ? undefined : didYouMean(name, Object.keys(COMMANDS));
    const problem = name === undefined ? 'missing command' : `unknown command '${name}'${meant ? ` (did you mean '${meant}'?)` : ''}`;
    process.stderr.write(`finetorch: ${problem}\n${mainHelp()}`);
    return 2;
  }
  let command: Command;
  try {
    command = (await entry.load()).command;
  } catch (err) {
    return fail(name, err);
  }
  try {
    const args = parseCommand(command.spec, rest);
    if (args.help) {
      process.stdout.write(helpText(command.spec, entry.summary));
      return 0;
    }
    return await command.run(args);
  } catch (err) {
    if (!(err instanceof UsageError)) return fail(name, err);
    process.stderr.write(`finetorch ${name}: ${err.message}\n${usageText(command.spec)}\nRun 'finetorch ${name} --help' for all options.\n`);
    return 2;
  }
}

if (require.main === module) {
  // A failure outside the awaited chain (an emitter's error event) still ends in one line, not a dump.
  process.on('uncaughtException', (err) => process.exit(fail(process.argv[2] ?? '', err)));
  // The reader has what it wanted (`| head -1`): stop without an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // Images decode on libuv's pool: as many threads as cores (at least libuv's 4), unless set.
  process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, os.availableParallelism()));
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
