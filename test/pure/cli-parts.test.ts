// The CLI's parts in-process: flag parsing, the progress display, the SVG pictures, the model card,
// atomic writes.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { CommandSpec, UsageError, helpText, parseCommand } from '../../lib/cli/args';
import { isWithin, writeFileAtomic } from '../../lib/cli/files';
import { cardFile, chooseRecipe, evalRecipe, modelCard, readCard, writeCard } from '../../lib/cli/model-card';
import { confusionChart, lineChart, renderPng } from '../../lib/cli/plots';
import { Progress, clock } from '../../lib/cli/progress';
import type { EpochRecord } from '../../lib/train/history';
import type { BatchEvent } from '../../lib/train/loop';
import { tempDir } from '../helpers/python';

const SPEC: CommandSpec = {
  name: 'demo',
  usage: ['demo [options] FILE'],
  positionals: { min: 1, max: 1 },
  options: {
    epochs: { type: 'string', value: 'N', help: 'epochs', default: '5' },
    lr: { type: 'string', value: 'X', help: 'learning rate', default: '0.01' },
    mode: { type: 'string', value: 'M', help: 'mode', default: 'a' },
    out: { type: 'string', value: 'DIR', help: 'output' },
    json: { type: 'boolean', help: 'JSON' },
  },
};

describe('CLI flags', () => {
  it('reads typed values, defaults, and fallbacks in between', () => {
    const { flags, positionals, help } = parseCommand(SPEC, ['--epochs', '7', 'file.pth', '--json']);
    assert.equal(help, false);
    assert.deepEqual(positionals, ['file.pth']);
    assert.equal(flags.int('epochs'), 7);
    assert.equal(flags.number('lr', { min: 0, open: true }), 0.01);
    assert.equal(flags.flag('json'), true);
    assert.equal(flags.string('out'), undefined);
    const resumed = flags.withFallback({ epochs: '3', out: 'runs/a', lr: '0.5' });
    assert.equal(resumed.int('epochs'), 7, 'a flag given wins over the fallback');
    assert.equal(resumed.string('out'), 'runs/a');
    assert.equal(resumed.number('lr'), 0.5, 'the fallback wins over the default');
  });

  it('turns every mistake into a UsageError naming the flag', () => {
    const mistakes: [string[], RegExp][] = [
      [['--nope', 'f'], /^unknown option '--nope'$/],
      [['--epoch', '3', 'f'], /^unknown option '--epoch' \(did you mean '--epochs'\?\)$/],
      [['--Lr=3', 'f'], /unknown option '--Lr' \(did you mean '--lr'\?\)/],
      [['--epochs'], /argument missing/],
      [[], /missing argument/],
      [['a', 'b'], /unexpected argument 'b'/],
    ];
    for (const [argv, message] of mistakes) assert.throws(() => parseCommand(SPEC, argv), (e: Error) => e instanceof UsageError && message.test(e.message));
    const bad: [string, () => unknown, RegExp][] = [
      ['2.5', (f = parseCommand(SPEC, ['--epochs', '2.5', 'f']).flags) => f.int('epochs'), /--epochs must be an integer of at least 1, got '2.5'/],
      ['0', (f = parseCommand(SPEC, ['--epochs', '0', 'f']).flags) => f.int('epochs'), /at least 1/],
      ['x', (f = parseCommand(SPEC, ['--lr', 'x', 'f']).flags) => f.number('lr'), /--lr must be a number/],
      ['-1', (f = parseCommand(SPEC, ['--lr=-1', 'f']).flags) => f.number('lr', { min: 0, open: true }), /--lr must be a number greater than 0, got '-1'/],
      // A negative number after a flag is its value, so the range check answers (not "ambiguous").
      ['-1 spaced', (f = parseCommand(SPEC, ['--lr', '-1', 'f']).flags) => f.number('lr', { min: 0, open: true }), /--lr must be a number greater than 0, got '-1'/],
      ['-.5', (f = parseCommand(SPEC, ['--lr', '-.5', 'f']).flags) => f.number('lr', { min: 0 }), /got '-.5'/],
      ['-2 epochs', (f = parseCommand(SPEC, ['f', '--epochs', '-2']).flags) => f.int('epochs'), /--epochs must be an integer of at least 1, got '-2'/],
      ['b', (f = parseCommand(SPEC, ['--mode', 'b', 'f']).flags) => f.choice('mode', ['a', 'c']), /--mode must be one of a, c, got 'b'/],
      ['out', (f = parseCommand(SPEC, ['f']).flags) => f.required('out'), /--out is required/],
    ];
    for (const [what, read, message] of bad) assert.throws(read, (e: Error) => e instanceof UsageError && message.test(e.message), what);
    // After '--', a dash starts a positional, not a value.
    assert.deepEqual(parseCommand(SPEC, ['--', '-1']).positionals, ['-1']);
  });

  it('tells a flag given from one taken from a fallback or a default', () => {
    const flags = parseCommand(SPEC, ['--lr', '0.5', 'f']).flags.withFallback({ epochs: '9', json: 'true' });
    assert.equal(flags.has('lr'), true);
    assert.equal(flags.has('epochs'), false);
    assert.equal(flags.int('epochs'), 9);
    assert.equal(flags.flag('json'), true, 'a boolean saved as true');
  });

  it('--help wins over other mistakes; help lists every flag with its default', () => {
    assert.equal(parseCommand(SPEC, ['--nope', '--help']).help, true);
    assert.equal(parseCommand(SPEC, ['-h']).help, true);
    const text = helpText(SPEC, 'Does a demo.');
    assert.match(text, /^usage: finetorch demo \[options\] FILE\n\nDoes a demo\./);
    for (const flag of ['--epochs N', '--lr X', '--out DIR', '--json', '-h, --help']) assert.ok(text.includes(flag), flag);
    assert.match(text, /epochs \(default: 5\)/);
  });
});

const record = (epoch: number, fcLr = 0.1): EpochRecord => ({
  epoch, trainLoss: 0.5, trainAcc: 0.75, validLoss: 0.25, validAcc: 0.875, validTop5: 1, imagesPerSec: 400, seconds: 2, lr: 0.01, fcLr,
});
const event = (batch: number): BatchEvent => ({
  epoch: 1, batch, batches: 10, step: batch, loss: 0.5, lr: 0.01, fcLr: 0.1, meanLoss: 0.6, meanAcc: 0.5, imagesPerSec: 100,
});

describe('progress', () => {
  it('off a terminal: a line every logEvery batches (none for validation), and one per epoch', () => {
    const written: string[] = [];
    const progress = new Progress({ write: (t: string) => written.push(t), isTTY: false }, 3, 32, { logEvery: 4, top5: false });
    for (let b = 1; b <= 10; b++) progress.batch(event(b));
    progress.validBatch({ epoch: 1, batch: 1, batches: 2 });
    progress.epoch(record(1, 0.01), true);
    assert.deepEqual(written, [
      'epoch 1/3  batch 4/10  step 4  loss 0.5000 (mean 0.6000)  acc 50.0%  lr 0.01 (fc 0.1)  100 img/s  ETA 0:02\n',
      'epoch 1/3  batch 8/10  step 8  loss 0.5000 (mean 0.6000)  acc 50.0%  lr 0.01 (fc 0.1)  100 img/s  ETA 0:01\n',
      'epoch 1/3  train loss 0.5000 acc 75.0%  valid loss 0.2500 acc 87.5%  400 img/s  2.0 s  lr 0.01  (best)\n',
    ]);
    const quiet: string[] = [];
    const epochsOnly = new Progress({ write: (t: string) => quiet.push(t), isTTY: false }, 3, 32);
    for (let b = 1; b <= 10; b++) epochsOnly.batch(event(b));
    assert.deepEqual(quiet, []);
  });

  it('on a terminal: a bar redrawn in place, throttled, within the width, then the epoch line', () => {
    const written: string[] = [];
    let now = 0;
    const progress = new Progress({ write: (t: string) => written.push(t), isTTY: true, columns: 100 }, 3, 32, { now: () => now });
    for (let b = 1; b <= 10; b++) {
      now += 30; // 30 ms a batch: most redraws are skipped
      progress.batch(event(b));
    }
    assert.ok(written.length >= 3 && written.length <= 5, `${written.length} redraws`);
    assert.ok(written.every((w) => w.startsWith('\r') && w.endsWith('\x1b[K')));
    const last = written.at(-1)!.slice(1, -3);
    assert.match(last, /^epoch 1\/3 █+ 10\/10 {2}loss 0\.6000 {2}acc 50\.0% {2}100 img\/s {2}ETA 0:00$/);
    assert.ok(last.length < 100);
    const middle = written[1].slice(1, -3);
    assert.match(middle, /█+░+ \d\/10 .* ETA 0:0\d/);
    now += 200;
    progress.validBatch({ epoch: 1, batch: 1, batches: 4 });
    assert.match(written.at(-1)!.slice(1, -3), /^epoch 1\/3 validating █+░+ 1\/4$/);
    progress.epoch(record(1), false);
    assert.equal(written.at(-2), '\r\x1b[K');
    assert.match(written.at(-1)!, /^epoch 1\/3 {2}train loss .* acc 87\.5% top-5 100\.0% .* lr 0\.01 \(fc 0\.1\)\n$/);
  });

  it('says what trains: fc alone in the frozen epochs, then every layer', () => {
    const written: string[] = [];
    const progress = new Progress({ write: (t: string) => written.push(t), isTTY: false }, 3, 32, { logEvery: 10, freezeEpochs: 1 });
    progress.batch(event(10));
    progress.epoch(record(1), false);
    progress.batch({ ...event(10), epoch: 2 });
    progress.epoch(record(2), false);
    const [step1, epoch1, step2, epoch2] = written;
    for (const line of [step1, epoch1]) assert.ok(line.includes('  fc lr 0.1 (backbone frozen)'), line);
    for (const line of [step2, epoch2]) assert.ok(line.includes('  lr 0.01 (fc 0.1)') && !line.includes('frozen'), line);
  });

  it('formats durations as m:ss and h:mm:ss', () => {
    assert.equal(clock(7), '0:07');
    assert.equal(clock(75.4), '1:15');
    assert.equal(clock(3725), '1:02:05');
    assert.equal(clock(Infinity), '?');
  });
});

describe('pictures', () => {
  const curves = (epochs: number) => lineChart({
    title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'loss',
    series: [
      { name: 'train', color: '#1f77b4', points: Array.from({ length: epochs }, (_, i) => [i + 1, 1 / (i + 1)] as [number, number]) },
      { name: 'valid', color: '#ff7f0e', points: Array.from({ length: epochs }, (_, i) => [i + 1, i === 0 ? null : 1.2 / (i + 1)] as [number, number | null]) },
    ],
  });

  it('a line chart has a title, axis labels, ticks, a legend and one polyline per series', () => {
    const svg = curves(5);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="640" height="400"/);
    for (const label of ['Loss per epoch', '>epoch<', '>loss<', '>train<', '>valid<']) assert.ok(svg.includes(label), label);
    for (const tick of ['>1<', '>5<', '>0.0<', '>1.0<']) assert.ok(svg.includes(tick), `tick ${tick}`);
    assert.equal(svg.match(/<polyline /g)?.length, 2);
    assert.equal(svg.match(/<circle /g)?.length, 5 + 4 + 2, 'a marker per point (the null one left out) and per legend entry');
  });

  it('a single epoch still draws, and huge losses get compact tick labels', () => {
    assert.doesNotMatch(curves(1), /NaN|Infinity/);
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', color: 'red', points: [[1, 3e6], [2, 4.7e6]] }] });
    assert.ok(svg.includes('>5M<'));
  });

  it('losses spanning two decades or more get a log axis; an lr curve a log x axis with its markers', () => {
    const series = (points: [number, number][]) => [{ name: 'train', color: 'red', points }];
    const falling = lineChart({ title: 't', xLabel: 'x', yLabel: 'loss', yLog: 'auto', series: series([[1, 2.3], [2, 0.3], [3, 0.01]]) });
    assert.ok(falling.includes('loss (log scale)'));
    for (const tick of ['>0.01<', '>0.1<', '>1<', '>10<']) assert.ok(falling.includes(tick), tick);
    const flat = lineChart({ title: 't', xLabel: 'x', yLabel: 'loss', yLog: 'auto', series: series([[1, 2.3], [2, 0.9]]) });
    assert.ok(!flat.includes('log scale'));
    const lr = lineChart({
      title: 'lr', xLabel: 'lr', yLabel: 'loss', xLog: true,
      series: series(Array.from({ length: 100 }, (_, i) => [1e-7 * 10 ** (i / 12.5), 2 - i / 100] as [number, number])),
      markers: [{ name: 'valley', color: 'blue', point: [1e-3, 1.5] }],
    });
    for (const tick of ['>1e-7<', '>1e-5<', '>0.001<', '>0.1<']) assert.ok(lr.includes(tick), tick);
    assert.equal(lr.match(/<circle [^>]*r="3"/g)?.length, 1, 'no marker per point on a dense curve, one in the legend');
    assert.equal(lr.match(/r="6" fill="none" stroke="blue"/g)?.length, 1, 'the suggestion');
    assert.ok(lr.includes('>valley<'));
    assert.doesNotMatch(lr, /NaN|Infinity/);
  });

  it('the confusion matrix shades cells by row share and escapes class names', () => {
    const svg = confusionChart('Confusion', ['cat', 'hot <dog> & co'], [[3, 1], [0, 4]]);
    assert.ok(svg.includes('hot &lt;dog&gt; &amp; co'));
    assert.ok(svg.includes('>predicted class<') && svg.includes('>true class<'));
    for (const count of ['>3<', '>1<', '>0<', '>4<']) assert.ok(svg.includes(count), count);
    assert.ok(svg.includes('fill="rgb(8,48,107)"'), 'a full row is the darkest shade');
  });

  it('renders to PNG with sharp', async () => {
    const png = await renderPng(curves(3));
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [1280, 800], 'twice the SVG size, for high-density screens');
    // Not blank: the curves and text put dark pixels on the white background.
    const { data } = await sharp(png).flatten({ background: 'white' }).greyscale().raw().toBuffer({ resolveWithObject: true });
    assert.ok(data.filter((v) => v < 128).length > 1000);
  });
});

describe('model card', () => {
  it('is FILE.json beside FILE.pth, read back whole; a foreign JSON there is not a card', async () => {
    const tmp = tempDir();
    try {
      const weights = path.join(tmp.dir, 'best.pth');
      assert.equal(cardFile(weights), path.join(tmp.dir, 'best.json'));
      assert.equal(await readCard(weights), undefined);
      const card = modelCard('resnet18', ['cat', 'dog'], 64);
      const imagenet = { interpolation: 'bilinear', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
      assert.deepEqual(card.eval, { resize: [73, 73], cropMode: 'squash', centerCrop: 64, ...imagenet });
      // torchvision's T.Resize(int): the shorter side, said as one number; timm's crop_pct floors.
      assert.deepEqual(modelCard('resnet18', ['cat', 'dog'], 64, { cropMode: 'center', cropPct: 0.9 }).eval,
        { resize: 71, cropMode: 'center', cropPct: 0.9, centerCrop: 64, ...imagenet });
      await writeCard(weights, card);
      assert.deepEqual(await readCard(weights), card);
      // Cards from before cropMode was written: a square resize.
      const { cropMode: _mode, ...older } = card.eval;
      fs.writeFileSync(cardFile(weights), JSON.stringify({ ...card, eval: older }));
      assert.deepEqual((await readCard(weights))!.eval, older);
      fs.writeFileSync(cardFile(weights), JSON.stringify({ name: 'something else' }));
      assert.equal(await readCard(weights), undefined);
      fs.writeFileSync(cardFile(weights), JSON.stringify({ ...card, classes: ['cat'] }));
      await assert.rejects(readCard(weights), /best\.json: a finetorch-model card with missing or malformed fields/);
    } finally {
      tmp.cleanup();
    }
  });

  it('sets the eval transform; a contradicting flag wins with a warning', () => {
    const card = { ...modelCard('resnet18', ['a', 'b'], 64), from: 'w.json' };
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    assert.deepEqual(chooseRecipe(card, {}, 'w.pth', warn), card.eval);
    assert.deepEqual(chooseRecipe(card, { imageSize: 64, cropMode: 'squash' }, 'w.pth', warn), card.eval);
    assert.deepEqual(warnings, []);
    assert.equal(chooseRecipe(card, { imageSize: 224 }, 'w.pth', warn).centerCrop, 224);
    assert.match(warnings[0], /--image-size 224 differs from the 64 that w\.pth was trained with \(w\.json\); using 224/);
    assert.deepEqual(chooseRecipe(card, { cropMode: 'center' }, 'w.pth', warn), evalRecipe(64, { cropMode: 'center' }));
    assert.match(warnings[1], /--crop-mode center differs from the squash that w\.pth was trained with/);
    assert.equal(warnings.length, 2);
    assert.deepEqual(chooseRecipe(undefined, {}, 'w.pth', warn), evalRecipe(224));
    assert.deepEqual(chooseRecipe(undefined, { imageSize: 32, cropPct: 0.5 }, 'w.pth', warn), evalRecipe(32, { cropPct: 0.5 }));
    assert.equal(warnings.length, 2);
  });

  it("keeps a card's bicubic resize (MAE's protocols) when a flag changes the crop", () => {
    const card = { ...modelCard('vit_tiny_patch16_32', ['a', 'b'], 32, { cropMode: 'center', cropPct: 0.875, interpolation: 'bicubic' }), from: 'w.json' };
    assert.deepEqual(card.eval.interpolation, 'bicubic');
    const recipe = chooseRecipe(card, { cropPct: 1 }, 'w.pth', () => undefined);
    assert.deepEqual([recipe.resize, recipe.cropMode, recipe.interpolation], [32, 'center', 'bicubic']);
  });
});

describe('run folders', () => {
  it('--out inside --data is told apart from a sibling with a shared prefix', () => {
    assert.equal(isWithin('/d/data/out', '/d/data'), true);
    assert.equal(isWithin('/d/data', '/d/data'), true);
    assert.equal(isWithin('/d/data-out', '/d/data'), false);
    assert.equal(isWithin('/d/out', '/d/data'), false);
  });
});

describe('command modules', () => {
  it('load without LibTorch or libvips, so that --help and flag mistakes answer at once', async () => {
    const modules = ['train', 'lr-find', 'eval', 'predict', 'export', 'inspect', 'weights'].map((c) => path.resolve(__dirname, '..', '..', 'lib', 'cli', 'commands', `${c}.js`));
    const script = `${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}` +
      'console.log(JSON.stringify(Object.keys(require.cache).filter((k) => /binding|sharp/.test(k))))';
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script]);
    assert.deepEqual(JSON.parse(stdout), []);
  });
});

describe('atomic writes', () => {
  it('replace a file whole and leave no temporary file', async () => {
    const tmp = tempDir();
    try {
      const file = path.join(tmp.dir, 'metrics.json');
      await writeFileAtomic(file, 'old');
      await writeFileAtomic(file, 'new');
      assert.equal(fs.readFileSync(file, 'utf8'), 'new');
      assert.deepEqual(fs.readdirSync(tmp.dir), ['metrics.json']);
      await assert.rejects(writeFileAtomic(path.join(tmp.dir, 'no', 'dir.json'), 'x'));
      assert.deepEqual(fs.readdirSync(tmp.dir), ['metrics.json']);
    } finally {
      tmp.cleanup();
    }
  });
});
