// The finetorch command end to end, run as a child process on a tiny image folder: train, resume,
// eval, predict, inspect, help and the exit codes of mistakes (stops, resumes and the rest: cli-workflows).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadPth, readPth, ResNet18, savePth } from '../../lib';
import { FAST, PER_CLASS, assertOneLineError, cli, makeImageFolder } from '../helpers/cli';
import { tempDir } from '../helpers/python';

const METRIC_FIELDS = ['epoch', 'trainLoss', 'trainAcc', 'validLoss', 'validAcc', 'validTop5', 'imagesPerSec', 'seconds', 'lr', 'fcLr'];
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('finetorch CLI', () => {
  const tmp = tempDir('finetorch-cli-');
  const data = path.join(tmp.dir, 'data');
  const start = path.join(tmp.dir, 'start.pth');
  const out = path.join(tmp.dir, 'out');
  let firstRun: Record<string, unknown>[];

  before(async () => {
    await makeImageFolder(data);
    const net = await ResNet18.create({ numClasses: 1000, seed: 1 });
    await savePth(start, await net.stateDict());
    net.dispose();
  });
  after(() => tmp.cleanup());

  it('--help on the command and on each subcommand exits 0 with the usage on stdout; --version', async () => {
    const main = await cli(['--help']);
    assert.equal(main.code, 0);
    const version = await cli(['--version']);
    assert.equal(version.stdout, `finetorch ${JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version}\n`);
    const names = ['train', 'lr-find', 'eval', 'predict', 'inspect'];
    const helps = await Promise.all(names.map((name) => cli([name, '--help'])));
    for (const [i, name] of names.entries()) {
      assert.match(main.stdout, new RegExp(`^  ${name} `, 'm'));
      const r = helps[i];
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: finetorch ${name}`));
      assert.match(r.stdout, /--json/);
    }
    // The help says what the command does: the extensions a folder is searched for, SIGTERM's exit code.
    const predictHelp = helps[names.indexOf('predict')].stdout.replace(/\n/g, ' ');
    assert.match(predictHelp, /\(\.jpg, \.jpeg, \.png, \.ppm, \.bmp, \.pgm, \.tif, \.tiff, \.webp: torchvision's ImageFolder's\)/);
    assert.doesNotMatch(predictHelp, /\.gif|\.avif/);
    assert.match(helps[names.indexOf('train')].stdout.replace(/\n/g, ' '), /exits 130 \(SIGTERM: 143,/);
  });

  it('an unknown flag, a bad value, a missing argument or command exits 2 with the usage on stderr', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--data', data, '--weights', start, '--out', out, '--bogus'], /unknown option '--bogus'/],
      [['train', '--data', data, '--weights', start, '--out', out, '--batchsize', '8'], /unknown option '--batchsize' \(did you mean '--batch-size'\?\)/],
      [['train', '--data', data, '--weights', start, '--out', out, '--lr', '-0.1'], /--lr must be a number greater than 0, got '-0.1'/],
      [['train', '--data', data, '--weights', start, '--out', out, '--amp', 'fp16'], /--amp fp16 needs a CUDA device/],
      [['train', '--data', data, '--weights', start, '--out', out, '--channels-last'], /--channels-last needs a CUDA device/],
      [['train', '--data', data, '--weights', start, '--out', out, '--min-lr', '0.001'], /--min-lr applies to --sched cosine, not constant/],
      [['train', '--data', data, '--weights', start, '--out', out, '--pct-start', '0.2'], /--pct-start applies to --sched onecycle, not constant/],
      [['train', '--data', data, '--weights', start, '--out', out, '--sched', 'onecycle', '--momentum', '0.9'],
        /--momentum does not apply to --sched onecycle, which cycles momentum itself/],
      [['train', '--data', data, '--weights', start, '--out', out, '--mode', 'linear-probe', '--freeze-epochs', '1'], /--freeze-epochs applies to --mode finetune/],
      [['train', '--data', data, '--weights', start, '--out', path.join(data, 'runs')], /--out .*runs is inside --data .*: its files would become a class folder/],
      [['lr-find', '--data', data, '--weights', start, '--start-lr', '1', '--end-lr', '0.1'], /--end-lr \(0\.1\) must be above --start-lr \(1\)/],
      [['train', '--data', data, '--weights', start, '--out', out, '--lr', 'fast'], /--lr must be a number/],
      [['train', '--data', data, '--weights', start, '--out', out, '--mode', 'full'], /--mode must be one of finetune, linear-probe/],
      [['train', '--data', data, '--weights', start, '--out', out, '--valid-split', '1'], /--valid-split must be below 1: nothing would be left to train on/],
      [['train', '--data', data, '--out', out], /--weights is required/],
      [['train', '--data', data, '--weights', start, '--out', out, '--scale', '0.5'], /--scale must be MIN,MAX with 0 < MIN <= MAX <= 1, got '0\.5'/],
      [['lr-find', '--data', data, '--weights', start, '--ratio', '4/3,3/4'], /--ratio must be MIN,MAX with 0 < MIN <= MAX, got '4\/3,3\/4'/],
      [['predict', '--weights', start, '--top-k', '0', 'x.png'], /--top-k must be an integer of at least 1/],
      [['predict', '--weights', start], /missing argument: the IMAGE files or FOLDERs of images to predict/],
      [['inspect', start, start], /unexpected argument/],
      [['eval', '--weights', start, '--data', data, '--device', 'tpu'], /--device must be cpu, cuda or cuda:N/],
    ];
    // Each child loads LibTorch before it parses: run them side by side.
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i];
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, new RegExp(`usage: finetorch ${args[0]}`));
      assert.equal(r.stdout, '');
    }
    for (const args of [[], ['frobnicate']]) {
      const r = await cli(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /usage: finetorch <command>/);
    }
    assert.match((await cli(['trian'])).stderr, /^finetorch: unknown command 'trian' \(did you mean 'train'\?\)/);
  });

  it('a missing or corrupt file exits 1 with one line naming it', async () => {
    const missing = path.join(tmp.dir, 'missing.pth');
    assertOneLineError(await cli(['train', '--data', data, '--weights', missing, '--out', out, ...FAST]), 1, new RegExp(`weights file ${missing} does not exist`));
    assertOneLineError(await cli(['eval', '--weights', missing, '--data', data]), 1, /missing\.pth does not exist/);
    const corrupt = path.join(tmp.dir, 'corrupt.pth');
    fs.writeFileSync(corrupt, fs.readFileSync(start).subarray(0, 5000));
    assertOneLineError(await cli(['inspect', corrupt]), 1, /corrupt\.pth: /);
    assertOneLineError(await cli(['predict', '--weights', corrupt, path.join(data, 'red', '0.png')]), 1, /corrupt\.pth: /);
    assertOneLineError(await cli(['eval', '--weights', start, '--data', path.join(tmp.dir, 'nowhere')]), 1, /nowhere does not exist/);
    assertOneLineError(await cli(['train', '--resume', path.join(tmp.dir, 'nowhere')]), 1, /checkpoint .*nowhere.checkpoint\.pth does not exist/);
    assertOneLineError(await cli(['train', '--data', data, '--weights', start, '--out', out, '--arch', 'resnet50', ...FAST]), 1,
      /start\.pth: holds a resnet18 state dict, not the resnet50 asked for/);
    assert.equal(fs.existsSync(out), false, 'failed runs write nothing');
  });

  it('train: 2 epochs write metrics, weights, checkpoint, classes and pictures, and a JSON summary', async () => {
    const r = await cli(['train', '--data', data, '--weights', start, '--out', out, '--epochs', '2', '--seed', '3', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    // Not a terminal: one plain line per epoch, no bar redraws.
    assert.deepEqual(r.stderr.match(/^epoch \d+\/2 .*$/gm)?.map((l) => l.split(' ')[1]), ['1/2', '2/2']);
    assert.doesNotMatch(r.stderr, /\r/);
    assert.match(r.stderr, /fc replaced: Linear\(in_features=512, out_features=1000, bias=True\) -> Linear\(in_features=512, out_features=3/);

    const summary = JSON.parse(r.stdout);
    assert.equal(summary.out, out);
    assert.equal(summary.mode, 'finetune');
    assert.deepEqual(summary.classes, ['blue', 'green', 'red']);
    assert.equal(summary.epochs, 2);
    assert.ok([1, 2].includes(summary.best.epoch));
    assert.equal(summary.best.file, path.join(out, 'best.pth'));
    assert.deepEqual(Object.keys(summary.last), METRIC_FIELDS);
    assert.equal(summary.validation.matrix.length, 3);
    assert.equal(summary.validation.matrix.flat().reduce((a: number, b: number) => a + b, 0), summary.validation.count);

    const csv = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], METRIC_FIELDS.join(','));
    assert.equal(csv.length, 3);
    firstRun = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    assert.deepEqual(firstRun.map((row) => row.epoch), [1, 2]);
    for (const row of firstRun) {
      assert.deepEqual(Object.keys(row), METRIC_FIELDS);
      for (const field of METRIC_FIELDS) assert.equal(typeof row[field], 'number', field);
    }
    assert.deepEqual(csv[1].split(',').map(Number), METRIC_FIELDS.map((f) => firstRun[0][f]));

    for (const name of ['best.pth', 'last.pth']) {
      const weights = await loadPth(path.join(out, name));
      assert.deepEqual(weights.get('fc.weight')?.shape, [3, 512], name);
      assert.equal(weights.size, 122, name);
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'classes.json'), 'utf8')), ['blue', 'green', 'red']);
    assert.equal((await readPth(path.join(out, 'checkpoint.pth')) as Map<string, unknown>).get('epoch'), 2);
    for (const [name, title] of [['loss', 'Loss per epoch'], ['accuracy', 'Accuracy per epoch'], ['confusion', 'Validation confusion matrix']]) {
      const svg = fs.readFileSync(path.join(out, `${name}.svg`), 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /<\/svg>\n$/);
      assert.ok(svg.includes(title), `${name}.svg has its title`);
      const png = fs.readFileSync(path.join(out, `${name}.png`));
      assert.deepEqual(png.subarray(0, 8), PNG_MAGIC, `${name}.png`);
      const meta = await sharp(png).metadata();
      assert.ok(meta.width! >= 300 && meta.height! >= 200, `${name}.png is ${meta.width}x${meta.height}`);
    }
    assert.match(fs.readFileSync(path.join(out, 'loss.svg'), 'utf8'), />train<\/text>[\s\S]*>valid<\/text>|>valid<\/text>[\s\S]*>train<\/text>/);
    assert.doesNotMatch(fs.readFileSync(path.join(out, 'accuracy.svg'), 'utf8'), /top-5/, 'with 3 classes top-5 is always 100%');
    assert.deepEqual(fs.readdirSync(out).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left');
  });

  it('train --resume continues from the checkpoint to epoch 3 with the settings of run.json', async () => {
    const r = await cli(['train', '--resume', out, '--epochs', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`resuming from ${path.join(out, 'checkpoint.pth')} \\(resnet18\\) after epoch 2`));
    assert.deepEqual(r.stderr.match(/^epoch \d+\/3 /gm), ['epoch 3/3 ']);
    const rows: Record<string, unknown>[] = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    assert.deepEqual(rows.map((row) => row.epoch), [1, 2, 3]);
    assert.deepEqual(rows.slice(0, 2), firstRun, 'the first two epochs are kept, not retrained');
    assert.equal(fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n').length, 4);
    assert.equal(JSON.parse(r.stdout).epochs, 3);
    assert.equal((await readPth(path.join(out, 'checkpoint.pth')) as Map<string, unknown>).get('epoch'), 3);
  });

  it('eval --json: accuracy, per-class accuracy and the confusion matrix, classes from classes.json', async () => {
    const r = await cli(['eval', '--weights', path.join(out, 'last.pth'), '--data', data, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.classesFrom, 'last.json');
    assert.equal(result.imageSize, 32, 'the size it was trained at, from the card');
    assert.equal(result.count, 3 * PER_CLASS);
    assert.deepEqual(result.classes, ['blue', 'green', 'red']);
    assert.deepEqual(result.perClass.map((c: { class: string; count: number }) => [c.class, c.count]), [['blue', 6], ['green', 6], ['red', 6]]);
    assert.deepEqual(result.matrix.map((row: number[]) => row.reduce((a, b) => a + b, 0)), [6, 6, 6]);
    const correct = result.matrix.reduce((sum: number, row: number[], i: number) => sum + row[i], 0);
    assert.equal(result.accuracy, correct / 18);
    assert.ok(Number.isFinite(result.loss));

    // A folder holding only some of the model's classes is matched by name.
    const some = path.join(tmp.dir, 'some');
    await makeImageFolder(some, ['red'], [0, 1]);
    const partial = JSON.parse((await cli(['eval', '--weights', path.join(out, 'last.pth'), '--data', some, '--image-size', '32', '--json'])).stdout);
    assert.deepEqual(partial.perClass.map((c: { count: number }) => c.count), [0, 0, 2]);
    assert.equal(partial.perClass[0].accuracy, null);

    const text = await cli(['eval', '--weights', path.join(out, 'last.pth'), '--data', data, '--image-size', '32']);
    assert.match(text.stdout, /accuracy \d+\.\d% \(18 images\)/);
    assert.match(text.stdout, /confusion matrix/);
  });

  it('predict --json: top-k classes by name with softmax probabilities', async () => {
    const images = [path.join(data, 'red', '0.png'), path.join(data, 'blue', '1.png')];
    const r = await cli(['predict', '--weights', path.join(out, 'best.pth'), '--top-k', '2', '--image-size', '32', '--json', ...images]);
    assert.equal(r.code, 0, r.stderr);
    const { weights, results } = JSON.parse(r.stdout);
    assert.equal(weights, path.join(out, 'best.pth'));
    assert.deepEqual(results.map((x: { image: string }) => x.image), images);
    for (const { top } of results) {
      assert.equal(top.length, 2);
      assert.ok(top[0].probability >= top[1].probability);
      assert.ok(top[0].probability + top[1].probability <= 1 + 1e-9);
      for (const p of top) assert.equal(p.class, ['blue', 'green', 'red'][p.index]);
    }
    // Without a card or classes.json, classes are named by index (ImageNet's names are for 1000 outputs).
    const bareWeights = path.join(tmp.dir, 'bare', 'best.pth');
    fs.mkdirSync(path.dirname(bareWeights));
    fs.copyFileSync(path.join(out, 'best.pth'), bareWeights);
    const bare = JSON.parse((await cli(['predict', '--weights', bareWeights, '--top-k', '3', '--image-size', '32', '--json', images[0]])).stdout);
    assert.equal(bare.results[0].top.length, 3);
    assert.equal(bare.results[0].top[0].class, String(bare.results[0].top[0].index));
  });

  it('inspect --json: format, keys, dtypes, shapes, sizes and parameter count', async () => {
    const r = await cli(['inspect', start, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.format, 'zip');
    assert.deepEqual([info.arch, info.numClasses], ['resnet18', 1000]);
    assert.equal(info.fileBytes, fs.statSync(start).size);
    assert.equal(info.tensors.length, 122);
    assert.deepEqual(info.tensors[0], { key: 'conv1.weight', dtype: 'float32', shape: [64, 3, 7, 7], numel: 9408, bytes: 37632 });
    assert.deepEqual(info.dtypes, { float32: 102, int64: 20 });
    assert.equal(info.parameters, 11689512); // torchvision's resnet18
    assert.equal(info.buffers, 9620);
    // A checkpoint shows the model it holds.
    const checkpoint = JSON.parse((await cli(['inspect', '--json', path.join(out, 'checkpoint.pth')])).stdout);
    assert.equal(checkpoint.parameters, 11689512 - 1000 * 513 + 3 * 513);
    assert.deepEqual([checkpoint.card.arch, checkpoint.card.classes, checkpoint.card.imageSize], ['resnet18', ['blue', 'green', 'red'], 32]);
    assert.equal(info.card, null);
    const text = await cli(['inspect', start]);
    assert.match(text.stdout, /zip .*format/);
    assert.match(text.stdout, /11,689,512 parameters/);
    assert.match(text.stdout, /torchvision resnet18, 1000 classes/);
    const described = await cli(['inspect', path.join(out, 'best.pth')]);
    assert.match(described.stdout, /best\.json: resnet18, 3 classes \(blue, green, red\), trained at 32 px/);
  });

  it('linear-probe on a train/ + valid/ layout, starting from a finetorch model, keeps its fc', async () => {
    const layout = path.join(tmp.dir, 'layout');
    await makeImageFolder(path.join(layout, 'train'), undefined, [0, 1, 2, 3]);
    await makeImageFolder(path.join(layout, 'valid'), undefined, [4, 5]);
    const probe = path.join(tmp.dir, 'probe');
    const r = await cli(['train', '--data', layout, '--weights', path.join(out, 'best.pth'), '--out', probe,
      '--mode', 'linear-probe', '--epochs', '1', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /12 training images in .*train, 6 validation images in .*valid/);
    assert.match(r.stderr, /fc kept/);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.mode, 'linear-probe');
    assert.equal(summary.validation.count, 6);
  });
});
