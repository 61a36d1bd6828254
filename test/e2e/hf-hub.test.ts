// timm's weights from the Hugging Face Hub into models and through the CLI, against the local Hub
// (test/pure/hf-hub.test.ts tests the cache and the downloads under them).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ResNet, VisionTransformer } from '../../lib/model';
import { saveSafetensors } from '../../lib/safetensors';
import { loadInferenceModel } from '../../lib/cli/inference-model';
import { readOnnxMetadata } from '../../lib/export';
import { resolveWeights, timmCard, trainingNormalizationWarning } from '../../lib/cli/weights-source';
import { cli } from '../helpers/cli';
import { timmConfig } from '../helpers/hub-server';
import { parseTimmConfig } from '../../lib/model/timm-config';
import { REPO, cacheDir, commit, config, opts, repoFolder, server, tmp, useHubFixture } from '../helpers/hub-fixture';

useHubFixture();

describe('ResNet.pretrained from the Hub', () => {
  it("loads timm's weights bit for bit, and refuses weights whose class count config.json contradicts", async () => {
    const net = await ResNet.create({ arch: 'resnet18', numClasses: 3, seed: 2 });
    const state = await net.stateDict();
    net.dispose();
    const file = path.join(tmp.dir, 'resnet18.safetensors');
    await saveSafetensors(file, state);
    const repo = 'timm/resnet18.finetorch_test';
    server.push(repo, { 'config.json': config, 'model.safetensors': fs.readFileSync(file) });
    const loaded = await ResNet.pretrained(`hf-hub:${repo}`, opts());
    assert.deepEqual(await loaded.stateDict(), state);
    loaded.dispose();
    const wrong = 'timm/resnet18.wrong_classes';
    server.push(wrong, { 'config.json': timmConfig(1000), 'model.safetensors': fs.readFileSync(file) });
    await assert.rejects(ResNet.pretrained(`hf-hub:${wrong}`, opts()), { code: 'ERR_FINETORCH_HUB', message: `${wrong}: config.json says 1000 classes, the weights' fc has 3` });
    // Options go with the id; an options object takes no second one to ignore.
    await assert.rejects(ResNet.pretrained(`hf-hub:${repo}`, { ...opts(), weights: 'IMAGENET1K_V1' } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION' });
    await assert.rejects(ResNet.pretrained({ arch: 'resnet18' }, { device: 'cpu' }), { name: 'TypeError', code: 'ERR_FINETORCH_INVALID_ARG', message: /no second argument/ });
  });
});

describe('VisionTransformer.pretrained from the Hub', () => {
  /** timm's config.json for a ViT made tiny by model_args (heads known only from there), evaluated at 32 px. */
  const vitConfig = (classes: number, modelArgs: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({
    architecture: 'vit_tiny_patch16_224', num_classes: classes, num_features: 48, global_pool: 'token',
    model_args: { patch_size: 8, embed_dim: 48, depth: 2, num_heads: 3, ...modelArgs },
    pretrained_cfg: { tag: 'augreg_in21k_ft_in1k', input_size: [3, 32, 32], fixed_input_size: true, interpolation: 'bicubic', crop_pct: 0.9,
      crop_mode: 'center', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], num_classes: classes, first_conv: 'patch_embed.proj', classifier: 'head' },
  }));

  it("loads timm's weights bit for bit with config.json's heads; an encoder gets a fresh head; contradictions are refused", async () => {
    const net = await VisionTransformer.create({ imgSize: 32, patchSize: 8, embedDim: 48, depth: 2, numHeads: 3, numClasses: 4, seed: 2 });
    const state = await net.stateDict();
    net.dispose();
    const file = path.join(tmp.dir, 'vit.safetensors');
    await saveSafetensors(file, state);
    const repo = 'timm/vit_tiny_patch16_224.finetorch_test';
    server.push(repo, { 'config.json': vitConfig(4), 'model.safetensors': fs.readFileSync(file) });
    const loaded = await VisionTransformer.pretrained(`hf-hub:${repo}`, opts());
    assert.deepEqual([loaded.config.numHeads, loaded.numClasses, loaded.config.imgSize], [3, 4, 32]);
    assert.deepEqual(await loaded.stateDict(), state);
    loaded.dispose();

    const encoderFile = path.join(tmp.dir, 'encoder.safetensors');
    await saveSafetensors(encoderFile, new Map([...state].filter(([k]) => !k.startsWith('head.'))));
    const encoder = 'timm/vit_tiny_patch16_224.encoder_test';
    server.push(encoder, { 'config.json': vitConfig(0), 'model.safetensors': fs.readFileSync(encoderFile) });
    const probed = await VisionTransformer.pretrained(`hf-hub:${encoder}`, { ...opts(), numClasses: 7 });
    assert.deepEqual([probed.numClasses, (await probed.stateDict()).get('blocks.1.mlp.fc2.weight')], [7, state.get('blocks.1.mlp.fc2.weight')]);
    probed.dispose();

    const wrong = 'timm/vit_tiny_patch16_224.wrong_test';
    server.push(wrong, { 'config.json': vitConfig(10, { depth: 3 }), 'model.safetensors': fs.readFileSync(file) });
    await assert.rejects(VisionTransformer.pretrained(`hf-hub:${wrong}`, opts()), {
      code: 'ERR_FINETORCH_HUB', message: `${wrong}: the weights hold a ViT of depth 2 (config.json: 3), 4 classes (config.json: 10), not the vit_tiny_patch16_224 that config.json makes timm build`,
    });
    await assert.rejects(VisionTransformer.pretrained(`hf-hub:${repo}`, { ...opts(), numHeds: 3 } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION' });
    await assert.rejects(VisionTransformer.pretrained({ weights: 'mae_pretrain_vit_base' }, { device: 'cpu' }), { name: 'TypeError', code: 'ERR_FINETORCH_INVALID_ARG' });

    // The CLI takes the id too, the heads from config.json: export at timm's 32 px with its transform.
    const onnx = path.join(tmp.dir, 'vit-hub.onnx');
    const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: cacheDir, HF_TOKEN: '' };
    const exported = await cli(['export', '--weights', `hf-hub:${repo}`, '--out', onnx], undefined, env);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /input \[batch, 3, 32, 32\] -> logits \[batch, 4\]/);
    assert.deepEqual(JSON.parse((await readOnnxMetadata(onnx)).preprocessing),
      { resize: 35, cropMode: 'center', cropPct: 0.9, interpolation: 'bicubic', centerCrop: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const got = await cli(['weights', 'get', `hf-hub:${encoder}`], undefined, env);
    assert.match(got.stderr, /timm's vit_tiny_patch16_224, no head \(an encoder\), evaluated at 32 px/);
  });
});

describe('the CLI', () => {
  const env = () => ({ HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: cacheDir, HF_TOKEN: '' });

  it('weights get hf-hub:… prints the file in the Hub cache; flags of the other source are refused; list shows both sources', async () => {
    const got = await cli(['weights', 'get', `hf-hub:${REPO}`], undefined, env());
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, `${path.join(repoFolder(), 'snapshots', commit, 'model.safetensors')}\n`);
    assert.match(got.stderr, new RegExp(`${REPO} at main \\(commit ${commit.slice(0, 12)}\\): downloaded; timm's resnet18, 3 classes, evaluated at 224 px \\(crop_pct 0.95, bicubic`));
    const json = JSON.parse((await cli(['weights', 'get', `hf-hub:${REPO}@${commit}`, '--offline', '--json'], undefined, env())).stdout);
    assert.deepEqual([json.commit, json.arch, json.config.cropPct, json.downloaded], [commit, 'resnet18', 0.95, false]);
    for (const [args, pattern] of [
      [['weights', 'get', `hf-hub:${REPO}`, '--weights', 'IMAGENET1K_V1'], /--weights applies to torchvision architectures only/],
      [['weights', 'get', 'resnet18', '--revision', 'main'], /--revision applies to hf-hub: ids only/],
      [['weights', 'list', '--offline'], /--offline applies to 'weights get' only/],
    ] as const) {
      const r = await cli([...args], undefined, env());
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
    }
    const listed = await cli(['weights', 'list', '--json'], undefined, env());
    const { weights, hub } = JSON.parse(listed.stdout);
    assert.equal(weights.length, 17);
    assert.equal(hub.cache, cacheDir);
    assert.ok(hub.weights.some((w: { id: string }) => w.id === 'hf-hub:timm/resnet50.a1_in1k'));
    assert.match((await cli(['weights', 'list'], undefined, env())).stdout, /resnet50\s+hf-hub:timm\/resnet50\.a1_in1k/);
  });

  it("eval, predict and export take an hf-hub: id with timm's eval transform and label names from config.json", async () => {
    const net = await ResNet.create({ arch: 'resnet18', numClasses: 3, seed: 4 });
    const file = path.join(tmp.dir, 'labelled.safetensors');
    await saveSafetensors(file, await net.stateDict());
    net.dispose();
    const repo = 'timm/resnet18.labelled';
    const labelled = JSON.parse(timmConfig(3).toString());
    labelled.label_names = ['ant', 'bee', 'cat'];
    server.push(repo, { 'config.json': Buffer.from(JSON.stringify(labelled)), 'model.safetensors': fs.readFileSync(file) });
    const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.HF_HUB_CACHE };
    Object.assign(process.env, { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: cacheDir });
    const warnings: string[] = [];
    try {
      const model = await loadInferenceModel(`hf-hub:${repo}`, { device: 'cpu', arch: undefined, imageSize: undefined }, (m) => warnings.push(m));
      const timmEval = { resize: 235, cropMode: 'center', cropPct: 0.95, interpolation: 'bicubic', centerCrop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
      assert.deepEqual(model.card?.eval, timmEval);
      assert.deepEqual([model.imageSize, model.classes, model.classesFrom], [224, ['ant', 'bee', 'cat'], `${repo}/config.json`]);
      model.net.dispose();
      const sized = await loadInferenceModel(`hf-hub:${repo}`, { device: 'cpu', arch: undefined, imageSize: 160 }, (m) => warnings.push(m));
      sized.net.dispose();
      assert.deepEqual(warnings, [`warning: --image-size 160 differs from the 224 that hf-hub:${repo} was trained with (${repo}/config.json); using 160`]);
      const onnx = path.join(tmp.dir, 'labelled.onnx');
      const exported = await cli(['export', '--weights', `hf-hub:${repo}`, '--out', onnx], undefined, env());
      assert.equal(exported.code, 0, exported.stderr);
      const metadata = await readOnnxMetadata(onnx);
      assert.deepEqual(JSON.parse(metadata.preprocessing), timmEval);
      assert.deepEqual(JSON.parse(metadata.classes!), ['ant', 'bee', 'cat']);
    } finally {
      for (const [key, value] of [['HF_ENDPOINT', saved.endpoint], ['HF_HUB_CACHE', saved.cache]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("a torchvision name gives torchvision's transform (resize the shorter side, centre-crop 224) from torch.hub's cache", async () => {
    const checkpoints = path.join(tmp.dir, 'torch', 'hub', 'checkpoints');
    fs.mkdirSync(checkpoints, { recursive: true });
    for (const name of ['resnet18-f37072fd.pth', 'resnet50-11ad3fa6.pth']) fs.writeFileSync(path.join(checkpoints, name), 'cached');
    const saved = process.env.TORCH_HOME;
    process.env.TORCH_HOME = path.join(tmp.dir, 'torch');
    try {
      const v1 = await resolveWeights('resnet18');
      assert.equal(v1.file, path.join(checkpoints, 'resnet18-f37072fd.pth'));
      assert.deepEqual(v1.card, {
        imageSize: 224, from: "torchvision's ResNet18_Weights.IMAGENET1K_V1",
        eval: { resize: 256, cropMode: 'center', interpolation: 'bilinear', centerCrop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      });
      assert.equal((await resolveWeights('ResNet50_Weights.IMAGENET1K_V2')).card?.eval.resize, 232);
    } finally {
      if (saved === undefined) delete process.env.TORCH_HOME;
      else process.env.TORCH_HOME = saved;
    }
    await assert.rejects(resolveWeights(path.join(tmp.dir, 'nothing.pth')), /weights file .*nothing\.pth does not exist/);
  });

  it('warns when train would normalize weights otherwise than they were trained (timm: mean and std 0.5)', () => {
    const config = parseTimmConfig(timmConfig(3, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }).toString(), 'x');
    assert.match(trainingNormalizationWarning('hf-hub:timm/resnet34.ra4_e3600_r224_in1k', timmCard(config, 'timm/resnet34.ra4_e3600_r224_in1k/config.json'))!,
      /^warning: hf-hub:timm\/resnet34\.ra4_e3600_r224_in1k was trained on images normalized with mean \[0\.5,0\.5,0\.5\] and std \[0\.5,0\.5,0\.5\] .*; finetorch train normalizes with ImageNet's/);
    assert.equal(trainingNormalizationWarning('x', timmCard(parseTimmConfig(timmConfig(3).toString(), 'x'), 'x')), undefined);
  });
});
