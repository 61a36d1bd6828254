// finetorch mae-pretrain end to end: its help and usage errors, a small MAE pretrained on a folder
// of images, the run stopped by SIGINT and resumed to the files of a run never stopped, and the
// encoder it writes read by VisionTransformer.load as MAE's released checkpoints are.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPth, readPth, VisionTransformer } from '../../lib';
import { assertOneLineError, cli, makeImageFolder } from '../helpers/cli';
import { tempDir } from '../helpers/python';

const SMALL = ['--image-size', '32', '--patch-size', '8', '--embed-dim', '32', '--depth', '2', '--num-heads', '2',
  '--decoder-embed-dim', '16', '--decoder-depth', '1', '--decoder-num-heads', '2'];
const RUN = [...SMALL, '--epochs', '3', '--warmup-epochs', '1', '--batch-size', '4', '--blr', '0.05', '--threads', '1', '--workers', '1'];

describe('finetorch mae-pretrain', () => {
  const tmp = tempDir('finetorch-mae-cli-');
  const data = path.join(tmp.dir, 'data');
  const dir = (name: string) => path.join(tmp.dir, name);
  before(() => makeImageFolder(data));
  after(() => tmp.cleanup());

  it('--help lists the recipe; an unknown flag, a bad value or a missing argument exits 2 with one line and the usage', async () => {
    assert.match((await cli(['--help'])).stdout, /^ {2}mae-pretrain +Pretrain a masked autoencoder/m);
    const help = await cli(['mae-pretrain', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: finetorch mae-pretrain DATA --out DIR/);
    for (const flag of ['--mask-ratio', '--norm-pix-loss', '--blr', '--warmup-epochs', '--resume']) assert.match(help.stdout, new RegExp(flag));
    const cases: [string[], RegExp][] = [
      [['mae-pretrain', data, '--out', dir('x'), '--mask-ratoi', '0.5'], /unknown option '--mask-ratoi' \(did you mean '--mask-ratio'\?\)/],
      [['mae-pretrain', data, '--out', dir('x'), '--arch', 'mae_vit_base_patch61'], /--arch must be one of .* \(did you mean 'mae_vit_base_patch16'\?\)/],
      [['mae-pretrain', data, '--out', dir('x'), '--mask-ratio', '1'], /--mask-ratio must be below 1/],
      [['mae-pretrain', '--out', dir('x')], /missing argument: the DATA folder/],
      [['mae-pretrain', data, '--out', path.join(data, 'runs')], /is inside DATA/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.match(r.stderr, /usage: finetorch mae-pretrain/);
    }
    assertOneLineError(await cli(['mae-pretrain', data, '--out', dir('big'), ...SMALL, '--batch-size', '1000']), 1, /fewer than one batch of 1000/);
  });

  it('a run, and one stopped by SIGINT then resumed, write the same checkpoint; encoder.pth loads as a ViT', async () => {
    const whole = await cli(['mae-pretrain', data, '--out', dir('whole'), ...RUN]);
    assert.equal(whole.code, 0, whole.stderr);
    for (const name of ['checkpoint.pth', 'encoder.pth', 'history.json', 'reconstruction.png']) assert.ok(fs.existsSync(path.join(dir('whole'), name)), name);
    const history = JSON.parse(fs.readFileSync(path.join(dir('whole'), 'history.json'), 'utf8')) as { epoch: number; loss: number }[];
    assert.deepEqual(history.map((r) => r.epoch), [1, 2, 3]);

    let sent = false;
    const stopped = await cli(['mae-pretrain', data, '--out', dir('resumed'), ...RUN, '--log-every', '1'], (text, kill) => {
      if (!sent && /epoch 2\/3 2\//.test(text)) {
        sent = true;
        kill('SIGINT');
      }
    });
    assert.equal(stopped.code, 130, stopped.stderr);
    const resumed = await cli(['mae-pretrain', data, '--out', dir('resumed'), ...RUN, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resumed at epoch 2/);
    const a = await loadPth(path.join(dir('whole'), 'encoder.pth'));
    const b = await loadPth(path.join(dir('resumed'), 'encoder.pth'));
    assert.deepEqual(b, a, 'the same encoder, bit for bit');
    const checkpoint = await readPth(path.join(dir('resumed'), 'checkpoint.pth')) as Map<string, unknown>;
    assert.equal(checkpoint.get('epoch'), 3);

    const vit = await VisionTransformer.load(path.join(dir('whole'), 'encoder.pth'), { numHeads: 2, numClasses: 5 });
    assert.equal(vit.config.embedDim, 32);
    assert.equal(vit.config.depth, 2);
    vit.dispose();
  });
});
