// timm's weights from the Hugging Face Hub, against a local server that answers as the Hub and its
// CDN do (test/helpers/hub-server.ts): the cache layout huggingface_hub uses (blobs by ETag,
// relative snapshot links, refs), revisions resolved to commits, offline use, tokens for gated
// repos (never sent to the CDN), resumed downloads, ETag checks, hostile answers refused before
// anything is written, and config.json deciding the architecture and the eval transform.
// (test/parity/hf-hub.test.ts checks the cache both ways against Python's huggingface_hub and timm;
// test/e2e/hf-hub.test.ts loads models from the Hub and runs the CLI on them.)
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { pretrainedWeights } from '../../lib/model/torchvision-weights';
import { parseTimmConfig } from '../../lib/model/timm-config';
import { listHubWeights } from '../../lib/model/timm-ids';
import { savePth } from '../../lib/pth';
import { HubServer, gitBlobSha1, sha256, timmConfig } from '../helpers/hub-server';
import { REPO, cacheDir, commit, config, opts, repoFolder, server, tmp, tree, useHubFixture, weights } from '../helpers/hub-fixture';

useHubFixture();

describe('the Hub cache, as huggingface_hub lays it out', () => {
  it('downloads config.json and model.safetensors: blobs by ETag, relative snapshot links, refs/main', async () => {
    const got = await pretrainedWeights(`hf-hub:${REPO}`, opts());
    const folder = repoFolder();
    assert.deepEqual(tree(folder), [
      'blobs', `blobs/${gitBlobSha1(config)}`, `blobs/${sha256(weights)}`, 'refs', 'refs/main', 'snapshots', `snapshots/${commit}`,
      `snapshots/${commit}/config.json -> ../../blobs/${gitBlobSha1(config)}`,
      `snapshots/${commit}/model.safetensors -> ../../blobs/${sha256(weights)}`,
    ]);
    assert.equal(fs.readFileSync(path.join(folder, 'refs', 'main'), 'utf8'), commit);
    assert.equal(got.file, path.join(folder, 'snapshots', commit, 'model.safetensors'));
    assert.ok(fs.readFileSync(got.file).equals(weights));
    assert.deepEqual([got.source, got.repoId, got.revision, got.commit, got.arch, got.downloaded], ['hf-hub', REPO, 'main', commit, 'resnet18', true]);
    assert.deepEqual(got.config, {
      architecture: 'resnet18', vit: undefined, numClasses: 3, tag: 'a1_in1k', inputSize: [3, 224, 224], cropPct: 0.95, cropMode: 'center',
      interpolation: 'bicubic', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], labelNames: undefined,
    });
    // config.json from the Hub itself; the weights from the CDN, where the redirect sent them; the
    // second file at the commit the first resolved to.
    assert.deepEqual(server.requests.map((r) => `${r.host} ${r.method} ${r.path} ${r.status}`), [
      `hub HEAD /${REPO}/resolve/main/config.json 200`, `hub GET /${REPO}/resolve/main/config.json 200`,
      `hub HEAD /${REPO}/resolve/${commit}/model.safetensors 302`, `cdn GET /blobs/${sha256(weights)} 200`,
    ]);
  });

  it('a second call asks the Hub what main is and downloads nothing; a commit hash asks nothing', async () => {
    await pretrainedWeights(`hf-hub:${REPO}`, opts());
    server.requests.length = 0;
    const again = await pretrainedWeights(`hf-hub:${REPO}`, opts());
    assert.equal(again.downloaded, false);
    assert.deepEqual(server.requests.map((r) => `${r.method} ${r.path}`), [`HEAD /${REPO}/resolve/main/config.json`]);
    server.requests.length = 0;
    const pinned = await pretrainedWeights(`hf-hub:${REPO}@${commit}`, opts());
    assert.equal(pinned.file, again.file);
    assert.deepEqual(server.requests, []);
  });

  it('offline (HF_HUB_OFFLINE=1, or offline: true), the cache answers alone; what it lacks is a clear ERR_FINETORCH_NETWORK', async () => {
    const missing = pretrainedWeights(`hf-hub:${REPO}`, opts({ offline: true }));
    await assert.rejects(missing, {
      code: 'ERR_FINETORCH_NETWORK',
      message: `${REPO}/config.json at revision 'main' is not in the cache ${repoFolder()}, and HF_HUB_OFFLINE is set (or offline: true), so the Hub was not asked`,
    });
    const online = await pretrainedWeights(`hf-hub:${REPO}`, opts());
    server.requests.length = 0;
    const previous = process.env.HF_HUB_OFFLINE;
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const { offline, ...rest } = opts();
      assert.equal(offline, false);
      assert.equal((await pretrainedWeights(`hf-hub:${REPO}`, rest)).file, online.file);
    } finally {
      if (previous === undefined) delete process.env.HF_HUB_OFFLINE;
      else process.env.HF_HUB_OFFLINE = previous;
    }
    assert.deepEqual(server.requests, []);
  });

  it('when the Hub cannot be reached the cache answers, as huggingface_hub falls back; uncached, ERR_FINETORCH_NETWORK', async () => {
    const closed = new HubServer();
    await closed.start();
    const endpoint = closed.endpoint;
    await closed.stop();
    await assert.rejects(pretrainedWeights(`hf-hub:${REPO}`, opts({ endpoint })), {
      code: 'ERR_FINETORCH_NETWORK', message: /config\.json at revision 'main' is not in the cache .*, and the Hub could not be reached \(cannot download .*ECONNREFUSED/,
    });
    const online = await pretrainedWeights(`hf-hub:${REPO}`, opts());
    assert.equal((await pretrainedWeights(`hf-hub:${REPO}`, opts({ endpoint }))).file, online.file);
    // A Hub that answers 500 leaves the cache to answer too.
    server.hubPlan.push('error-500');
    assert.equal((await pretrainedWeights(`hf-hub:${REPO}`, opts())).file, online.file);
  });

  it('main moves: the new commit is downloaded beside the old snapshot and refs/main follows it', async () => {
    const repo = 'timm/resnet34.a1_in1k';
    const first = server.push(repo, { 'config.json': config, 'model.safetensors': weights });
    await pretrainedWeights(`hf-hub:${repo}`, opts());
    const changed = Buffer.from(weights);
    changed[changed.length - 1] ^= 0x40;
    const second = server.push(repo, { 'config.json': config, 'model.safetensors': changed });
    const got = await pretrainedWeights(`hf-hub:${repo}`, opts());
    assert.equal(got.commit, second);
    assert.ok(fs.readFileSync(got.file).equals(changed));
    assert.equal(fs.readFileSync(path.join(repoFolder(repo), 'refs', 'main'), 'utf8'), second);
    assert.ok(fs.readFileSync(path.join(repoFolder(repo), 'snapshots', first, 'model.safetensors')).equals(weights));
    // The unchanged config.json is one blob, linked from both snapshots.
    assert.equal(fs.readdirSync(path.join(repoFolder(repo), 'blobs')).length, 3);
  });
});

describe('tokens, failures and hostile answers', () => {
  it('a gated repo without a token is an ERR_FINETORCH_HTTP naming it and HF_TOKEN; the token goes to the Hub, never to the CDN', async () => {
    const repo = 'gated/resnet18.private';
    server.push(repo, { 'config.json': config, 'model.safetensors': weights }, { gatedBy: 'hf_secret' });
    await assert.rejects(pretrainedWeights(`hf-hub:${repo}`, opts()), {
      code: 'ERR_FINETORCH_HTTP', status: 401,
      message: `${repo} is gated or private (HTTP 401 GatedRepo): accept its conditions on the Hub if it has any, and set HF_TOKEN ` +
        '(or log in with `hf auth login`) to a token that may read it',
    });
    await assert.rejects(pretrainedWeights(`hf-hub:${repo}`, opts({ token: 'hf_other' })), {
      code: 'ERR_FINETORCH_HTTP', status: 403, message: new RegExp(`^${repo} is gated or private \\(HTTP 403 GatedRepo\\): .*set HF_TOKEN`),
    });
    assert.deepEqual(tree(repoFolder(repo)), []);
    const previous = process.env.HF_TOKEN;
    process.env.HF_TOKEN = 'hf_secret';
    try {
      const { token, ...rest } = opts();
      assert.equal(token, false);
      await pretrainedWeights(`hf-hub:${repo}`, rest);
    } finally {
      if (previous === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = previous;
    }
    const sent = server.requests.filter((r) => r.status < 400);
    assert.ok(sent.some((r) => r.host === 'cdn'));
    for (const r of sent) assert.equal(r.authorization, r.host === 'hub' ? 'Bearer hf_secret' : undefined, `${r.host} ${r.method} ${r.path}`);
  });

  it('a cut connection keeps the bytes as blobs/<etag>.incomplete and links nothing; the next call resumes them with a Range request', async () => {
    server.cdnPlan.push('cut');
    await assert.rejects(pretrainedWeights(`hf-hub:${REPO}`, opts()), { code: 'ERR_FINETORCH_DOWNLOAD_INTERRUPTED' });
    const blobs = path.join(repoFolder(), 'blobs');
    const incomplete = path.join(blobs, `${sha256(weights)}.incomplete`);
    assert.equal(fs.statSync(incomplete).size, Math.floor(weights.length / 2));
    assert.deepEqual(fs.readdirSync(path.join(repoFolder(), 'snapshots', commit)), ['config.json']);
    server.requests.length = 0;
    const got = await pretrainedWeights(`hf-hub:${REPO}`, opts());
    assert.ok(fs.readFileSync(got.file).equals(weights));
    const resumed = server.requests.find((r) => r.host === 'cdn')!;
    assert.deepEqual([resumed.range, resumed.status], [`bytes=${Math.floor(weights.length / 2)}-`, 206]);
    assert.deepEqual(fs.readdirSync(blobs).sort(), [gitBlobSha1(config), sha256(weights)].sort());
  });

  it('bytes that do not match the ETag are refused (ERR_FINETORCH_HASH_MISMATCH) and nothing is kept', async () => {
    server.cdnPlan.push('wrong-bytes');
    await assert.rejects(pretrainedWeights(`hf-hub:${REPO}`, opts()), {
      code: 'ERR_FINETORCH_HASH_MISMATCH', message: new RegExp(`invalid hash value for .*/blobs/${sha256(weights)}.*\\(expected "${sha256(weights)}", got "[0-9a-f]{64}"\\); nothing was kept`),
    });
    assert.deepEqual(fs.readdirSync(path.join(repoFolder(), 'blobs')), [gitBlobSha1(config)]);
  });

  it("answers that are not the Hub's are refused before anything is written", async () => {
    for (const [behaviour, pattern] of [
      ['no-commit', /config\.json: the answer from .* has no X-Repo-Commit header, so it does not come from a Hugging Face Hub/],
      ['bad-commit', /X-Repo-Commit '\.\.\/\.\.\/\.\.\/escape' is not a 40-digit hex commit hash/],
      ['no-etag', /the Hub's answer has no ETag/],
      ['path-etag', /the Hub's ETag '\.\.\/\.\.\/\.\.\/\.\.\/escape' cannot name a file in the cache/],
    ] as const) {
      server.hubPlan.push(behaviour);
      await assert.rejects(pretrainedWeights(`hf-hub:${REPO}`, opts()), { code: 'ERR_FINETORCH_HUB', message: pattern }, behaviour);
      assert.deepEqual(tree(cacheDir), [], behaviour);
    }
  });

  it('no such repo, revision or file: clear errors; a repo without model.safetensors gives pytorch_model.bin, as timm falls back', async () => {
    await assert.rejects(pretrainedWeights('hf-hub:timm/nope', opts()), {
      code: 'ERR_FINETORCH_HTTP', message: /repository timm\/nope not found \(HTTP 401 RepoNotFound\): check its name; if it is private or gated, set HF_TOKEN/,
    });
    await assert.rejects(pretrainedWeights(`hf-hub:${REPO}@v9`, opts()), { code: 'ERR_FINETORCH_HTTP', message: `${REPO} has no revision 'v9' (HTTP 404 RevisionNotFound)` });
    const bin = path.join(tmp.dir, 'pytorch_model.bin');
    await savePth(bin, new Map([['fc.weight', { dtype: 'float32', shape: [1], data: new Float32Array([1]) }]]));
    const repo = 'timm/resnet18.bin_only';
    const only = server.push(repo, { 'config.json': config, 'pytorch_model.bin': fs.readFileSync(bin) });
    const got = await pretrainedWeights(`hf-hub:${repo}`, opts());
    assert.equal(got.file, path.join(repoFolder(repo), 'snapshots', only, 'pytorch_model.bin'));
    // Offline, the same file from the cache.
    assert.equal((await pretrainedWeights(`hf-hub:${repo}`, opts({ offline: true }))).file, got.file);
    const noWeights = 'timm/resnet18.no_weights';
    server.push(noWeights, { 'config.json': config });
    await assert.rejects(pretrainedWeights(`hf-hub:${noWeights}`, opts()), { code: 'ERR_FINETORCH_HTTP', message: /has no file 'model\.safetensors' at revision '[0-9a-f]{40}' \(HTTP 404 EntryNotFound\)/ });
  });

  it('ids and revisions are checked before any request', async () => {
    for (const [id, pattern] of [
      ['hf-hub:timm/../x', /'timm\/\.\.\/x' is not a Hub repo id/],
      ['hf-hub:a/b/c', /'a\/b\/c' is not a Hub repo id/],
      ['hf-hub:timm/x--y', /is not a Hub repo id/],
      ['hf-hub:timm/x@a@b', /names more than one revision/],
      ['hf-hub:timm/x@../../etc', /'\.\.\/\.\.\/etc' is not a revision/],
    ] as const) {
      await assert.rejects(pretrainedWeights(id as `hf-hub:${string}`, opts()), { code: 'ERR_FINETORCH_HUB', message: pattern }, id);
    }
    await assert.rejects(pretrainedWeights(`hf-hub:${REPO}@v1`, opts({ revision: 'v2' })), { code: 'ERR_FINETORCH_HUB', message: /names revision 'v1' but the revision option says 'v2'/ });
    await assert.rejects(pretrainedWeights(`hf-hub:${REPO}`, { ...opts(), modelDir: 'x' } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION' });
    assert.deepEqual(server.requests, []);
  });
});

describe("config.json, as timm reads it", () => {
  it('decides the architecture: one finetorch lacks is refused before any weight is downloaded', async () => {
    const repo = 'timm/resnet50d.ra2_in1k';
    server.push(repo, { 'config.json': Buffer.from(JSON.stringify({ architecture: 'resnet50d', num_classes: 1000, pretrained_cfg: {} })), 'model.safetensors': weights });
    await assert.rejects(pretrainedWeights(`hf-hub:${repo}`, opts()), {
      code: 'ERR_FINETORCH_HUB', message: /timm\/resnet50d\.ra2_in1k\/config\.json: timm's architecture 'resnet50d' is not one finetorch builds \(resnet18, resnet34/,
    });
    assert.ok(!server.requests.some((r) => r.path.endsWith('model.safetensors')));
  });

  it("gives timm's defaults where a field is absent, reads the legacy flat layout, refuses what finetorch cannot follow", () => {
    const flat = parseTimmConfig(JSON.stringify({ architecture: 'resnet50', num_classes: 10, label_names: [...'abcdefghij'] }), 'x');
    assert.deepEqual(flat, {
      architecture: 'resnet50', vit: undefined, numClasses: 10, tag: undefined, inputSize: [3, 224, 224], cropPct: 0.875, cropMode: 'center',
      interpolation: 'bicubic', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], labelNames: [...'abcdefghij'],
    });
    const refused = (text: string, pattern: RegExp) => assert.throws(() => parseTimmConfig(text, 'r/config.json'), { code: 'ERR_FINETORCH_HUB', message: pattern });
    refused('[]', /r\/config\.json: not a JSON object/);
    refused('{', /r\/config\.json: not JSON/);
    refused(timmConfig(3, { crop_mode: 'border' }).toString(), /crop_mode 'border' is not one finetorch follows/);
    refused(timmConfig(3, { interpolation: 'lanczos' }).toString(), /interpolation 'lanczos'/);
    refused(timmConfig(3, { input_size: [3, 224, 256] }).toString(), /is not square/);
    refused(JSON.stringify({ architecture: 'resnet18', num_classes: 2, model_args: { drop_rate: 0.1, output_stride: 8 } }), /model_args output_stride change timm's resnet18/);
  });

  it("reads a ViT's configuration as timm builds it: the architecture's arguments, model_args, input_size; refuses the ones finetorch does not build", () => {
    // timm's config.json for vit_base_patch16_224.mae: no head, the image size from input_size (fixed_input_size).
    const mae = JSON.stringify({
      architecture: 'vit_base_patch16_224', num_classes: 0, num_features: 768, global_pool: 'token',
      pretrained_cfg: { tag: 'mae', input_size: [3, 224, 224], fixed_input_size: true, interpolation: 'bicubic', crop_pct: 0.9, crop_mode: 'center',
        mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], num_classes: 0, first_conv: 'patch_embed.proj', classifier: 'head' },
    });
    const base = { imgSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12, mlpRatio: 4, qkvBias: true, classToken: true, globalPool: 'token', fcNorm: false, dropPathRate: 0 };
    const parsed = parseTimmConfig(mae, 'x');
    assert.deepEqual([parsed.architecture, parsed.vit, parsed.numClasses, parsed.cropPct], ['vit_base_patch16_224', base, 0, 0.9]);
    const withArgs = (modelArgs: Record<string, unknown>, cfg: Record<string, unknown> = {}) => JSON.stringify({
      architecture: 'vit_small_patch16_224', num_classes: 10, model_args: modelArgs, pretrained_cfg: { input_size: [3, 64, 64], fixed_input_size: true, ...cfg },
    });
    assert.deepEqual(parseTimmConfig(withArgs({ embed_dim: 48, depth: 2, num_heads: 3, global_pool: 'avg', drop_path_rate: 0.1 }), 'x').vit,
      { ...base, imgSize: 64, embedDim: 48, depth: 2, numHeads: 3, globalPool: 'avg', fcNorm: true });
    assert.deepEqual(parseTimmConfig(withArgs({ img_size: 96, class_token: false, global_pool: 'avg', fc_norm: false, qkv_bias: false }), 'x').vit,
      { ...base, imgSize: 96, embedDim: 384, numHeads: 6, classToken: false, globalPool: 'avg', fcNorm: false, qkvBias: false });
    // Without fixed_input_size timm keeps the architecture's size.
    assert.equal(parseTimmConfig(withArgs({}, { fixed_input_size: false }), 'x').vit?.imgSize, 224);
    const refused = (text: string, pattern: RegExp) => assert.throws(() => parseTimmConfig(text, 'r/config.json'), { code: 'ERR_FINETORCH_HUB', message: pattern });
    refused(withArgs({ reg_tokens: 4, init_values: 1e-5 }), /model_args reg_tokens, init_values change timm's vit_small_patch16_224, which finetorch builds as published/);
    refused(withArgs({ global_pool: 'map' }), /model_args\.global_pool must be 'token' or 'avg' \(the poolings finetorch builds\), got "map"/);
    refused(withArgs({ num_heads: 5 }), /no ViT finetorch builds/);
    refused(withArgs({ embed_dim: -1 }), /model_args\.embed_dim must be a positive integer, got -1/);
    refused(JSON.stringify({ architecture: 'vit_base_patch16_clip_224', num_classes: 0 }), /timm's architecture 'vit_base_patch16_clip_224' is not one finetorch builds \(resnet18, .*vit_tiny_patch16_224, /);
    refused(JSON.stringify({ architecture: 'resnet18', num_classes: 0 }), /num_classes must be a positive integer, got 0/);
  });

  it('lists the timm checkpoints of every architecture finetorch builds', () => {
    const ids = listHubWeights().map((w) => w.id);
    assert.ok(ids.includes('hf-hub:timm/resnet50.a1_in1k') && ids.includes('hf-hub:timm/resnet18.a1_in1k'));
    assert.ok(ids.includes('hf-hub:timm/vit_base_patch16_224.mae') && ids.includes('hf-hub:timm/vit_small_patch16_224.augreg_in21k_ft_in1k'));
    assert.equal(new Set(listHubWeights().map((w) => w.arch)).size, 10 + 17, 'the ResNets, and the ViTs with pretrained weights');
  });
});

