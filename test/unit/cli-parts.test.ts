// The CLI's parts in-process: flag parsing, the progress display, the SVG pictures, atomic writes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { CommandSpec, UsageError, helpText, parseCommand } from '../../lib/cli/args';
import { writeFileAtomic } from '../../lib/cli/files';
import { confusionChart, lineChart, renderPng } from '../../lib/cli/plots';
import { Progress, clock } from '../../lib/cli/progress';
import type { BatchEvent, EpochRecord } from '../../lib/train';
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
      [['--nope', 'f'], /Unknown option '--nope'/],
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
      ['b', (f = parseCommand(SPEC, ['--mode', 'b', 'f']).flags) => f.choice('mode', ['a', 'c']), /--mode must be one of a, c, got 'b'/],
      ['out', (f = parseCommand(SPEC, ['f']).flags) => f.required('out'), /--out is required/],
    ];
    for (const [what, read, message] of bad) assert.throws(read, (e: Error) => e instanceof UsageError && message.test(e.message), what);
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

const record = (epoch: number): EpochRecord => ({
  epoch, trainLoss: 0.5, trainAcc: 0.75, validLoss: 0.25, validAcc: 0.875, validTop5: 1, imagesPerSec: 400, seconds: 2, lr: 0.01, fcLr: 0.1,
});
const event = (batch: number): BatchEvent => ({
  epoch: 1, batch, batches: 10, step: batch, loss: 0.5, lr: 0.01, fcLr: 0.1, meanLoss: 0.6, meanAcc: 0.5, imagesPerSec: 100,
});

describe('progress', () => {
  it('off a terminal: only one plain line per epoch', () => {
    const written: string[] = [];
    const progress = new Progress({ write: (t: string) => written.push(t), isTTY: false }, 3, 32);
    for (let b = 1; b <= 10; b++) progress.batch(event(b));
    progress.epoch(record(1), true);
    assert.deepEqual(written, ['epoch 1/3  train loss 0.5000 acc 75.0%  valid loss 0.2500 acc 87.5%  400 img/s  2.0 s  lr 0.01  (best)\n']);
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
    progress.epoch(record(1), false);
    assert.equal(written.at(-2), '\r\x1b[K');
    assert.match(written.at(-1)!, /^epoch 1\/3 {2}train loss .* lr 0\.01\n$/);
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
    assert.deepEqual([meta.width, meta.height], [640, 400]);
    // Not blank: the curves and text put dark pixels on the white background.
    const { data } = await sharp(png).flatten({ background: 'white' }).greyscale().raw().toBuffer({ resolveWithObject: true });
    assert.ok(data.filter((v) => v < 128).length > 1000);
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
