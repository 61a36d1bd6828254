// kill -9 at random moments of savePth, saveCheckpoint and `finetorch train`: the last complete
// file always loads (whole, of one generation), a killed training run always resumes, and the
// temporary files that killed writers leave behind are removed by the next write to the target.
// The moments come from a seeded generator; the number of kills is fixed (about a minute in all).
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCheckpoint, loadPth, readPth, ResNet18, savePth, SGD } from '../../lib';
import { mulberry32, randint } from '../../lib/data/random';
import { photo, write } from '../helpers/data-fixtures';
import { PTH_ELEMENTS, PTH_TENSORS } from '../helpers/kill-target';
import { tempDir } from '../helpers/python';

const TARGET = path.resolve(__dirname, '..', 'helpers', 'kill-target.js');
const MAIN = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
const rng = mulberry32(14);

/** A child process whose output is watched: resolves `waitFor` once the output matches. */
class Watched {
  readonly child: ChildProcess;
  output = '';
  private readonly exited: Promise<void>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => { this.output += d; });
    this.child.stderr!.on('data', (d) => { this.output += d; });
    this.exited = new Promise((resolve) => this.child.on('exit', () => resolve()));
  }

  async waitFor(pattern: RegExp): Promise<void> {
    let exited = false;
    void this.exited.then(() => { exited = true; });
    while (!pattern.test(this.output)) {
      if (exited) throw new Error(`exited before printing ${pattern}:\n${this.output}`);
      await sleep(20);
    }
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** The last "saved N" line's N, 0 before the first. */
  get lastSaved(): number {
    const all = [...this.output.matchAll(/^saved (\d+)$/gm)];
    return all.length ? Number(all[all.length - 1][1]) : 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Temporary files beside `file`, with the pid their name carries. */
function temps(file: string): { name: string; pid: number }[] {
  const prefix = `.${path.basename(file)}.`;
  return fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'))
    .map((name) => ({ name, pid: Number(/\.(\d+)-\d+\.[0-9a-f]+\.tmp$/.exec(name)?.[1]) }));
}

/**
 * Kills `kills` writers of `file`, each at a random moment within one write after its second
 * write (so that most die mid-write). After each kill `check` reads the file, given the last
 * generation the writer reported; each next writer's first write must remove every dead one's temps.
 */
async function killWriters(what: string, file: string, kills: number, check: (lastSaved: number) => Promise<void>): Promise<{ leftTemps: number }> {
  const dead = new Set<number>();
  let leftTemps = 0;
  for (let k = 0; k < kills; k++) {
    const writer = new Watched([TARGET, what, file]);
    await writer.waitFor(/^saved 1$/m);
    assert.deepEqual(temps(file).filter((t) => dead.has(t.pid)), [], 'the first write removed the temps of dead writers');
    const started = Date.now();
    await writer.waitFor(/^saved 2$/m);
    await sleep(randint(rng, 0, Date.now() - started));
    await writer.kill();
    dead.add(writer.child.pid!);
    leftTemps += temps(file).length;
    await check(writer.lastSaved);
  }
  return { leftTemps };
}

describe('kill -9 during writes', () => {
  const tmp = tempDir('finetorch-kill-');
  after(() => tmp.cleanup());

  it('savePth: after each of 10 kills the file is one whole generation, and the next write removes the temps', async (t) => {
    const file = path.join(tmp.dir, 'weights.pth');
    const { leftTemps } = await killWriters('pth', file, 10, async (lastSaved) => {
      const stateDict = await loadPth(file);
      const generation = stateDict.get('a')!.data[0] as number;
      assert.ok(generation === lastSaved || generation === lastSaved + 1, `generation ${generation} after "saved ${lastSaved}"`);
      assert.deepEqual([...stateDict.keys()], PTH_TENSORS);
      for (const t of stateDict.values()) assert.ok(t.data.length === PTH_ELEMENTS && t.data.every((v) => v === generation));
    });
    t.diagnostic(`10 kills survived; ${leftTemps} temporary files left by killed writers, each removed by the next write`);
    assert.ok(leftTemps > 0, 'some kills hit a write in progress (else this test proves little)');
    await savePth(file, new Map());
    assert.deepEqual(temps(file), []);
  });

  it('saveCheckpoint: after each of 4 kills the checkpoint loads into a model and optimizer', async (t) => {
    const file = path.join(tmp.dir, 'checkpoint.pth');
    const net = await ResNet18.create({ numClasses: 2, seed: 5 });
    const optimizer = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    try {
      const { leftTemps } = await killWriters('checkpoint', file, 4, async (lastSaved) => {
        const { epoch } = await loadCheckpoint(file, { net, optimizer });
        assert.ok(epoch === lastSaved || epoch === lastSaved + 1, `epoch ${epoch} after "saved ${lastSaved}"`);
      });
      t.diagnostic(`4 kills survived; ${leftTemps} temporary files left by killed writers, each removed by the next write`);
      await savePth(file, new Map());
      assert.deepEqual(temps(file), []);
    } finally {
      net.dispose();
    }
  });
});

describe('kill -9 during finetorch train, then --resume', () => {
  const tmp = tempDir('finetorch-kill-train-');
  const data = path.join(tmp.dir, 'data');
  const start = path.join(tmp.dir, 'start.pth');
  before(async () => {
    for (const [c, name] of ['cat', 'dog'].entries()) {
      for (let i = 0; i < 4; i++) await write(data, `${name}/${i}.png`, (await photo(40, 40, 10 * c + i)).png());
    }
    const net = await ResNet18.create({ numClasses: 1000, seed: 1 });
    await savePth(start, await net.stateDict());
    net.dispose();
  });
  after(() => tmp.cleanup());

  it('resumes after each of 2 kills at random moments after epoch 1, with no temps left behind', async () => {
    const run = path.join(tmp.dir, 'run');
    const fast = ['--image-size', '32', '--batch-size', '4', '--valid-split', '0.25'];
    for (let k = 0; k < 2; k++) {
      const args = k === 0 ? ['--data', data, '--weights', start, '--out', run, ...fast] : ['--resume', run];
      const training = new Watched([MAIN, 'train', ...args, '--epochs', '50']);
      const epoch = k === 0 ? 1 : JSON.parse(fs.readFileSync(path.join(run, 'metrics.json'), 'utf8')).length + 1;
      await training.waitFor(new RegExp(`^epoch ${epoch}/50  train loss`, 'm'));
      await sleep(randint(rng, 0, 3000));
      await training.kill();

      const saved = await readPth(path.join(run, 'checkpoint.pth')) as Map<string, unknown>;
      const done = Number(saved.get('epoch'));
      assert.ok(done >= epoch, `checkpoint of epoch ${done}, killed after epoch ${epoch} finished`);
      await loadPth(path.join(run, 'last.pth'));
      const resumed = new Watched([MAIN, 'train', '--resume', run, '--epochs', String(done + 1)]);
      await new Promise((resolve) => resumed.child.on('exit', resolve));
      assert.equal(resumed.child.exitCode, 0, resumed.output);
      const rows: { epoch: number }[] = JSON.parse(fs.readFileSync(path.join(run, 'metrics.json'), 'utf8'));
      assert.deepEqual(rows.map((r) => r.epoch), Array.from({ length: done + 1 }, (_, i) => i + 1));
      assert.deepEqual(fs.readdirSync(run).filter((f) => f.endsWith('.tmp')), [], 'the resumed run removed every temp');
    }
  });
});
