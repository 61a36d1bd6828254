// The VisionTransformer's API without PyTorch: refused sizes and files with coded errors, image
// sizes, drop path in training only, the head surgery, the loops and checkpoints on a ViT, and
// the key layouts.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  fineTune, interpolatePosEmbed, linearProbe, loadCheckpoint, lrFind, readCheckpointInfo, readOnnxMetadata, ResNet, saveCheckpoint, savePth, SGD, VisionTransformer,
} from '../../lib';
import { HostTensor, zeros } from '../../lib/base/tensor';
import { tempDir } from '../helpers/python';

const tmp = tempDir('finetorch-vit-');
after(() => tmp.cleanup());

const TINY = { imgSize: 16, patchSize: 8, embedDim: 24, depth: 2, numHeads: 2, numClasses: 3 } as const;

function images(n: number, size = 16, seed = 1): HostTensor<'float32'> {
  const data = new Float32Array(n * 3 * size * size);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    data[i] = s / 2 ** 30 - 1;
  }
  return { dtype: 'float32', shape: [n, 3, size, size], data };
}

function assertCode(code: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.equal((err as { code?: string }).code, code, String(err));
    if (pattern) assert.match((err as Error).message, pattern);
    return true;
  };
}

describe('VisionTransformer sizes and inputs', () => {
  it('refuses sizes timm would refuse or truncate, with coded errors', async () => {
    await assert.rejects(VisionTransformer.create({ ...TINY, imgSize: 20 }), assertCode('ERR_FINETORCH_INVALID_ARG', /patchSize 8 does not divide imgSize 20/));
    await assert.rejects(VisionTransformer.create({ ...TINY, numHeads: 5 }), assertCode('ERR_FINETORCH_INVALID_ARG', /not a multiple of numHeads 5/));
    await assert.rejects(VisionTransformer.create({ ...TINY, classToken: false }), assertCode('ERR_FINETORCH_INVALID_ARG', /globalPool 'token' needs classToken/));
    await assert.rejects(VisionTransformer.create({ arch: 'vit_bse_patch16' }), assertCode('ERR_FINETORCH_INVALID_ARG', /naming a ViT size/));
    await assert.rejects(VisionTransformer.create({ ...TINY, dropPathRate: 1 }), assertCode('ERR_FINETORCH_INVALID_ARG'));
    await assert.rejects(VisionTransformer.create({ ...TINY, patch_size: 8 } as never), assertCode('ERR_FINETORCH_UNKNOWN_OPTION', /did you mean 'patchSize'/));
  });

  it('takes images of its own size only, and says how to change it', async () => {
    const net = await VisionTransformer.create(TINY);
    await assert.rejects(net.forward(images(2, 24)), assertCode('ERR_FINETORCH_BAD_INPUT', /takes 16x16 images, got 24x24.*imgSize/));
    assert.deepEqual((await net.forward(images(2))).shape, [2, 3]);
    assert.deepEqual((await net.features(images(2))).shape, [2, 24]);
    net.dispose();
  });

  it('drops paths in training only: eval is deterministic, train mode differs from it and between calls', async () => {
    const net = await VisionTransformer.create({ ...TINY, dropPathRate: 0.5 });
    const x = images(8);
    net.eval();
    const a = (await net.forward(x)).data;
    assert.deepEqual((await net.forward(x)).data, a);
    net.train();
    const b = (await net.forward(x)).data;
    const c = (await net.forward(x)).data;
    assert.notDeepEqual(b, a);
    assert.notDeepEqual(b, c);
    net.dispose();
    const still = await VisionTransformer.create(TINY);
    still.eval();
    const e = (await still.forward(x)).data;
    still.train();
    assert.deepEqual((await still.forward(x)).data, e, 'no drop path: train mode computes what eval does');
    still.dispose();
  });

  it('a named size reads off its name; timm defaults are ViT-B/16 at 224 px', async () => {
    const tiny = await VisionTransformer.create({ arch: 'vit_tiny_patch16', imgSize: 32, numClasses: 2 });
    assert.equal(tiny.arch, 'vit_tiny_patch16_32');
    assert.deepEqual([tiny.config.embedDim, tiny.config.depth, tiny.config.numHeads, tiny.numFeatures], [192, 12, 3, 192]);
    tiny.dispose();
    const custom = await VisionTransformer.create(TINY);
    assert.equal(custom.arch, 'VisionTransformer');
    custom.dispose();
  });
});

describe('VisionTransformer files', () => {
  it('refuses files that fit no ViT, naming why', async () => {
    const resnet = await ResNet.create({ numClasses: 2 });
    const resnetFile = path.join(tmp.dir, 'resnet.pth');
    await savePth(resnetFile, await resnet.stateDict());
    resnet.dispose();
    await assert.rejects(VisionTransformer.load(resnetFile), assertCode('ERR_FINETORCH_STATE_DICT', /patch_embed\.proj\.weight/));

    const net = await VisionTransformer.create(TINY);
    const state = await net.stateDict();
    net.dispose();
    const custom = path.join(tmp.dir, 'custom.pth');
    await savePth(custom, state);
    await assert.rejects(VisionTransformer.load(custom), assertCode('ERR_FINETORCH_STATE_DICT', /pass numHeads/));
    await assert.rejects(VisionTransformer.load(custom, { numHeads: 5 }), assertCode('ERR_FINETORCH_STATE_DICT', /not a multiple of numHeads 5/));

    const oblong = new Map(state);
    oblong.set('pos_embed', zeros('float32', [1, 1 + 6, 24]));
    const oblongFile = path.join(tmp.dir, 'oblong.pth');
    await savePth(oblongFile, oblong);
    await assert.rejects(VisionTransformer.load(oblongFile, { numHeads: 2 }), assertCode('ERR_FINETORCH_STATE_DICT', /6 patch positions, not a square grid/));

    const extra = new Map(state);
    extra.set('decoder_pred.weight', zeros('float32', [4, 24]));
    const extraFile = path.join(tmp.dir, 'extra.pth');
    await savePth(extraFile, extra);
    await assert.rejects(VisionTransformer.load(extraFile, { numHeads: 2 }), assertCode('ERR_FINETORCH_STATE_DICT', /Unexpected key\(s\) in state_dict: "decoder_pred\.weight"/));
    const lenient = await VisionTransformer.load(extraFile, { numHeads: 2, strict: false });
    lenient.dispose();

    // A qkv too small for the width the patch embedding declares: refused before the model is built.
    const narrow = new Map(state);
    narrow.set('blocks.1.attn.qkv.weight', zeros('float32', [3, 24]));
    const narrowFile = path.join(tmp.dir, 'narrow.pth');
    await savePth(narrowFile, narrow);
    await assert.rejects(VisionTransformer.load(narrowFile, { numHeads: 2, strict: false }),
      assertCode('ERR_FINETORCH_STATE_DICT', /size mismatch for blocks\.1\.attn\.qkv\.weight: copying a param with shape \[3, 24\], the shape in current model is \[72, 24\]/));
    await assert.rejects(VisionTransformer.load(custom, { numHeads: 2, arch: 'vit_small_patch16' }), assertCode('ERR_FINETORCH_STATE_DICT', /not the vit_small_patch16 asked for/));
  });

  it('interpolatePosEmbed refuses an embedding without a square grid', async () => {
    await assert.rejects(interpolatePosEmbed(zeros('float32', [1, 1 + 6, 4]), { numExtraTokens: 1, gridSize: 3 }),
      assertCode('ERR_FINETORCH_BAD_INPUT', /square grid/));
    const same = await interpolatePosEmbed(zeros('float32', [1, 1 + 9, 4]), { numExtraTokens: 1, gridSize: 3 });
    assert.deepEqual(same.shape, [1, 10, 4]);
  });

  it("an avg-pooled ViT has no torchvision layout; a class-token one saves in either", async () => {
    const pooled = await VisionTransformer.create({ ...TINY, globalPool: 'avg' });
    await assert.rejects(pooled.stateDict({ layout: 'torchvision' }), assertCode('ERR_FINETORCH_STATE_DICT', /no 'norm\.weight'/));
    pooled.dispose();
    const net = await VisionTransformer.create(TINY);
    const tv = await net.stateDict({ layout: 'torchvision' });
    assert.deepEqual([...tv.keys()].slice(0, 4), ['class_token', 'conv_proj.weight', 'conv_proj.bias', 'encoder.pos_embedding']);
    assert.deepEqual([...tv.keys()].slice(-4), ['encoder.ln.weight', 'encoder.ln.bias', 'heads.head.weight', 'heads.head.bias']);
    net.dispose();
  });
});

describe('VisionTransformer training', () => {
  it('resetClassifier replaces the head, and the model answers for the new classes', async () => {
    const net = await VisionTransformer.create(TINY);
    assert.equal(String(net.head), 'Linear(in_features=24, out_features=3, bias=True)');
    const head = net.resetClassifier(5, { seed: 2 });
    assert.equal(String(head), 'Linear(in_features=24, out_features=5, bias=True)');
    assert.deepEqual(net.head.parameters().map((p) => [p.name, p.shape]), [['head.weight', [5, 24]], ['head.bias', [5]]]);
    assert.equal((await net.forward(images(1))).shape[1], 5);
    net.dispose();
  });

  it("exportOnnx writes the ViT at its own image size, whichever key layout stateDict() defaults to (test/parity/onnx-vit.test.ts runs it)", async () => {
    const net = await VisionTransformer.create(TINY);
    net.layout = 'torchvision';
    const file = path.join(tmp.dir, 'vit.onnx');
    await net.exportOnnx(file, { classes: ['a', 'b', 'c'] });
    const metadata = await readOnnxMetadata(file);
    assert.deepEqual([metadata.arch, JSON.parse(metadata.preprocessing).centerCrop, JSON.parse(metadata.classes)], ['VisionTransformer', 16, ['a', 'b', 'c']]);
    net.dispose();
  });

  it('linearProbe (with the feature cache) trains only the head; lrFind runs and restores; fineTune trains all, the head at 10x', async () => {
    const net = await VisionTransformer.create({ ...TINY, seed: 4 });
    const batches = [0, 1, 2].map((i) => ({ input: images(4, 16, i + 1), target: Int32Array.from([0, 1, 2, i % 3]) }));
    const before = await net.stateDict();
    await linearProbe(net, { train: batches, epochs: 2, lr: 0.1, featureCache: true });
    const after = await net.stateDict();
    for (const [key, t] of before) {
      if (key.startsWith('head.')) assert.notDeepEqual(after.get(key)!.data, t.data, `${key} trained`);
      else assert.deepEqual(after.get(key)!.data, t.data, `${key} frozen`);
    }
    const found = await lrFind(net, batches, { numIt: 6 });
    assert.ok(found.lrs.length > 0 && found.lrs.length <= 6 && found.stop !== 'nonFinite', JSON.stringify(found.stop));
    assert.deepEqual((await net.stateDict()).get('head.weight')!.data, after.get('head.weight')!.data, 'lrFind puts the weights back');
    const history = await fineTune(net, { train: batches, epochs: 1, lr: 0.01 });
    assert.deepEqual([history[0].lr, history[0].fcLr], [0.01, 0.1]);
    const tuned = await net.stateDict();
    assert.notDeepEqual(tuned.get('blocks.0.attn.qkv.weight')!.data, after.get('blocks.0.attn.qkv.weight')!.data);
    net.dispose();
  });

  it('a checkpoint of a ViT names it and restores weights and momentum', async () => {
    const net = await VisionTransformer.create({ arch: 'vit_tiny_patch16', imgSize: 16, numClasses: 3 });
    const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    await net.trainStep(images(2), Int32Array.from([0, 1]), opt);
    const file = path.join(tmp.dir, 'vit-checkpoint.pth');
    await saveCheckpoint(file, { net, optimizer: opt }, { epoch: 1, history: [] });
    const info = await readCheckpointInfo(file);
    assert.deepEqual([info.arch, info.numClasses], ['vit_tiny_patch16_16', 3]);
    const again = await VisionTransformer.load(file);
    const opt2 = new SGD(again.parameters(), { lr: 0.01, momentum: 0.9 });
    await loadCheckpoint(file, { net: again, optimizer: opt2 });
    assert.deepEqual((await again.stateDict()).get('head.weight')!.data, (await net.stateDict()).get('head.weight')!.data);
    assert.deepEqual([...(await opt2.stateDict()).state.keys()], [...(await opt.stateDict()).state.keys()]);
    net.dispose();
    again.dispose();
  });
});
