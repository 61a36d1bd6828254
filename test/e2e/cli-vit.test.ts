// The finetorch command with a Vision Transformer: train takes ViT weights (timm's or MAE's keys)
// at --image-size (the position embedding interpolated), inspect shows the ViT as print(model)
// does, eval scores and export writes what train wrote, --resume keeps the ViT, and --arch names ViTs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { savePth, VisionTransformer } from '../../lib';
import { FAST, assertOneLineError, cli, makeImageFolder } from '../helpers/cli';
import { tempDir } from '../helpers/python';

describe('finetorch CLI with a ViT', () => {
  const tmp = tempDir('finetorch-cli-vit-');
  const data = path.join(tmp.dir, 'data');
  const weights = path.join(tmp.dir, 'vit.pth');
  const encoder = path.join(tmp.dir, 'encoder.pth');
  let repr: string;

  before(async () => {
    await makeImageFolder(data);
    // ViT-Ti/16 at 64 px: MAE's file layout ({'model': encoder}, no head) and timm's with a head.
    const net = await VisionTransformer.create({ arch: 'vit_tiny_patch16', imgSize: 64, numClasses: 10, seed: 1 });
    repr = String(net);
    const state = await net.stateDict();
    await savePth(weights, state);
    await savePth(encoder, new Map([['model', new Map([...state].filter(([k]) => !k.startsWith('head.')))]]));
    net.dispose();
  });
  after(() => tmp.cleanup());

  it('inspect names the ViT and prints it as print(model) does', async () => {
    const text = await cli(['inspect', weights]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /timm vit_tiny_patch16_64, 10 classes/);
    assert.ok(text.stdout.includes(repr), 'print(model) of the ViT');
    const json = JSON.parse((await cli(['inspect', '--json', encoder])).stdout);
    assert.deepEqual([json.family, json.arch, json.numClasses], ['vit', 'vit_tiny_patch16_64', null]);
    assert.match(json.repr, /\(head\): Identity\(\)\n\)$/);
  });

  it('train from an MAE-style encoder at 32 px (its position embedding interpolated), then eval and resume', async () => {
    const out = path.join(tmp.dir, 'run');
    const r = await cli(['train', '--data', data, '--weights', encoder, '--out', out, '--epochs', '1', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /model: .*encoder\.pth \(vit_tiny_patch16_32\), head replaced: Linear\(in_features=192, out_features=1000, bias=True\) -> Linear\(in_features=192, out_features=3, bias=True\)/);
    const card = JSON.parse(fs.readFileSync(path.join(out, 'best.json'), 'utf8'));
    assert.deepEqual([card.arch, card.imageSize], ['vit_tiny_patch16_32', 32]);
    const scored = await cli(['eval', '--weights', path.join(out, 'best.pth'), '--data', data, '--json']);
    assert.equal(scored.code, 0, scored.stderr);
    assert.equal(JSON.parse(scored.stdout).arch, 'vit_tiny_patch16_32');
    const onnx = path.join(tmp.dir, 'vit.onnx');
    const exported = await cli(['export', '--weights', path.join(out, 'best.pth'), '--out', onnx]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /vit\.onnx: vit_tiny_patch16_32, opset 17, input \[batch, 3, 32, 32\] -> logits \[batch, 3\], [\d.]+ MiB\n$/);
    const resumed = await cli(['train', '--resume', out, '--epochs', '2', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming from .*checkpoint\.pth \(vit_tiny_patch16_32\) after epoch 1/);
    assertOneLineError(await cli(['train', '--resume', out, '--epochs', '3', '--image-size', '48']), 1, /takes 32 px images .*a resumed run keeps it/);
  });

  it('--arch names a ViT the weights must hold, or suggests one', async () => {
    const wrong = await cli(['train', '--data', data, '--weights', weights, '--out', path.join(tmp.dir, 'x'), '--arch', 'vit_small_patch16', ...FAST]);
    assertOneLineError(wrong, 1, /not the vit_small_patch16 asked for/);
    const misspelt = await cli(['train', '--data', data, '--weights', weights, '--out', path.join(tmp.dir, 'y'), '--arch', 'vit_tiny_patch61x']);
    assert.equal(misspelt.code, 2);
    assert.match(misspelt.stderr, /--arch must name a torchvision ResNet .* or a ViT/);
  });
});
