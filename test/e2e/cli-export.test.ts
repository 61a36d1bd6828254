// finetorch export end to end: the .pth with its card becomes an ONNX file whose metadata carry the
// card's classes and eval transform, that onnxruntime-node loads with the declared input and output;
// a ViT's file exports at its card's size (the position embedding interpolated when that differs)
// and onnxruntime-node gives finetorch's logits; usage mistakes exit 2 and leave no file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ResNet, VisionTransformer, readOnnxMetadata, savePth } from '../../lib';
import { modelCard, writeCard } from '../../lib/cli/model-card';
import { cli } from '../helpers/cli';
import { assertClose } from '../helpers/compare';
import { randomInput, runInNode, trainModePasses } from '../helpers/onnx-check';
import { tempDir } from '../helpers/python';

describe('finetorch export', () => {
  const tmp = tempDir('finetorch-cli-export-');
  const carded = path.join(tmp.dir, 'carded', 'model.pth');
  const bare = path.join(tmp.dir, 'bare', 'model.pth');
  const classes = ['blue', 'green', 'red'];

  before(async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 4 });
    for (const file of [carded, bare]) {
      fs.mkdirSync(path.dirname(file));
      await savePth(file, await net.stateDict());
    }
    net.dispose();
    await writeCard(carded, modelCard('resnet18', classes, 40));
  });
  after(() => tmp.cleanup());

  it('takes classes and preprocessing from the card; onnxruntime-node sees [batch, 3, 40, 40] -> [batch, 3]', async () => {
    const out = path.join(tmp.dir, 'carded.onnx');
    const r = await cli(['export', '--weights', carded, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /carded\.onnx: resnet18, opset 17, input \[batch, 3, 40, 40\] -> logits \[batch, 3\], BatchNorm folded, [\d.]+ MiB\n$/);
    const metadata = await readOnnxMetadata(out);
    assert.deepEqual(JSON.parse(metadata.classes), classes);
    assert.deepEqual(JSON.parse(metadata.preprocessing), modelCard('resnet18', classes, 40).eval);
    const session = await ort.InferenceSession.create(out);
    try {
      assert.deepEqual(session.inputNames, ['input']);
      assert.deepEqual(session.outputNames, ['logits']);
      const input = session.inputMetadata[0];
      assert.ok(input.isTensor && input.shape.join() === 'batch,3,40,40', JSON.stringify(input));
    } finally {
      await session.release();
    }
  });

  it('--image-size over the card warns; --batch-size, --batch-norm keep, --opset and names are honoured; no card: no class names', async () => {
    const out = path.join(tmp.dir, 'bare.onnx');
    const r = await cli(['export', '--weights', bare, '--out', out, '--image-size', '32', '--batch-size', '2', '--batch-norm', 'keep',
      '--opset', '13', '--input-name', 'pixels', '--output-name', 'scores']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no \.json or classes\.json beside .*model\.pth: the file records no class names/);
    assert.match(r.stdout, /opset 13, pixels \[2, 3, 32, 32\] -> scores \[2, 3\], BatchNorm kept/);
    const metadata = await readOnnxMetadata(out);
    assert.equal(metadata.classes, undefined);
    assert.equal(JSON.parse(metadata.preprocessing).centerCrop, 32);

    const warned = await cli(['export', '--weights', carded, '--out', path.join(tmp.dir, 'resized.onnx'), '--image-size', '48']);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /warning: --image-size 48 differs from the 40 that .* was trained with/);
    assert.equal(JSON.parse((await readOnnxMetadata(path.join(tmp.dir, 'resized.onnx'))).preprocessing).centerCrop, 48);
  });

  it("a ViT file: exported at its card's size (48, its position embedding interpolated from 32); onnxruntime-node gives finetorch's logits", async () => {
    const vitFile = path.join(tmp.dir, 'vit', 'model.pth');
    fs.mkdirSync(path.dirname(vitFile));
    const net = await VisionTransformer.create({ arch: 'vit_tiny_patch16_224', imgSize: 32, numClasses: 3, seed: 6 });
    await savePth(vitFile, await net.stateDict());
    net.dispose();
    await writeCard(vitFile, modelCard('vit_tiny_patch16_32', classes, 48));
    const out = path.join(tmp.dir, 'vit.onnx');
    const r = await cli(['export', '--weights', vitFile, '--out', out, '--opset', '18']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /vit\.onnx: vit_tiny_patch16_48, opset 18, input \[batch, 3, 48, 48\] -> logits \[batch, 3\], [\d.]+ MiB\n$/);
    const metadata = await readOnnxMetadata(out);
    assert.deepEqual([metadata.arch, JSON.parse(metadata.classes), JSON.parse(metadata.preprocessing)],
      ['vit_tiny_patch16_48', classes, modelCard('vit_tiny_patch16_32', classes, 48).eval]);
    const same = await VisionTransformer.load(vitFile, { imgSize: 48 });
    const input = randomInput(2, 48, 3);
    const want = (await same.eval().forward(input)).data;
    same.dispose();
    assertClose(await runInNode(out, input), want, 1e-4, 'onnxruntime-node against finetorch');
  });

  it("a ViT with MAE's probe head: its BatchNorm folded into the Gemm or kept (--batch-norm keep); onnxruntime-node gives finetorch's logits", async () => {
    const probeFile = path.join(tmp.dir, 'probe', 'model.pth');
    fs.mkdirSync(path.dirname(probeFile));
    const net = await VisionTransformer.create({ arch: 'vit_tiny_patch16_224', imgSize: 32, seed: 7 });
    net.resetClassifier(3, { head: 'mae-probe', seed: 8 });
    await trainModePasses(net, 32, 9);
    await savePth(probeFile, await net.stateDict());
    await writeCard(probeFile, modelCard('vit_tiny_patch16_32', classes, 32));
    const input = randomInput(2, 32, 10);
    const want = (await net.forward(input)).data;
    net.dispose();
    for (const [mode, written] of [['fold', 'folded'], ['keep', 'kept']]) {
      const out = path.join(tmp.dir, `probe-${mode}.onnx`);
      const r = await cli(['export', '--weights', probeFile, '--out', out, '--batch-norm', mode]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`probe-${mode}\\.onnx: vit_tiny_patch16_32, opset 17, input \\[batch, 3, 32, 32\\] -> logits \\[batch, 3\\], BatchNorm ${written}, `));
      assertClose(await runInNode(out, input), want, 1e-4, `--batch-norm ${mode}: onnxruntime-node against finetorch`);
    }
  });

  it('usage mistakes exit 2 with the usage and write nothing', async () => {
    const out = path.join(tmp.dir, 'never.onnx');
    const cases: [string[], RegExp][] = [
      [['--weights', bare, '--out', out, '--opset', '10'], /--opset must be between 11 and 26, got '10'/],
      [['--weights', bare, '--out', out, '--opset', '27'], /--opset must be between 11 and 26, got '27'/],
      [['--weights', bare, '--out', out, '--batch-norm', 'drop'], /--batch-norm must be one of fold, keep, got 'drop'/],
      [['--weights', bare, '--out', out, '--fold'], /unknown option '--fold'/],
      [['--weights', bare, '--out', out, '--batch_size', '2'], /unknown option '--batch_size' \(did you mean '--batch-size'\?\)/],
      [['--weights', bare, '--out', out, '--batch-size', '0'], /--batch-size must be an integer of at least 1/],
      [['--weights', bare], /--out is required/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(['export', ...args])));
    for (const [i, [args, message]] of cases.entries()) {
      assert.equal(results[i].code, 2, `${args.join(' ')}: ${results[i].stderr}`);
      assert.match(results[i].stderr, message);
      assert.match(results[i].stderr, /usage: finetorch export/);
    }
    const help = await cli(['export', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: finetorch export --weights WEIGHTS --out FILE\.onnx/);
    assert.match((await cli(['--help'])).stdout, /^ {2}export /m);
    const named = await cli(['export', '--weights', bare, '--out', out, '--input-name', 'x', '--output-name', 'x']);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /exportOnnx: inputName and outputName are both 'x'/);
    assert.equal(fs.existsSync(out), false);
  });
});
