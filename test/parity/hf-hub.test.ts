// The Hugging Face Hub cache both ways, against Python's huggingface_hub 1.33 and timm 1.0.29, with
// a repo that timm's save_for_hf wrote, served by a local Hub (test/helpers/hub-server.ts): Python
// (HF_HUB_OFFLINE=1) finds and loads what finetorch downloaded, timm with the same logits;
// finetorch (offline) finds what Python's hf_hub_download fetched from the same server, in the same
// layout; timm's eval transform is the one finetorch's card holds; and the architectures behind
// the hf-hub: ids finetorch lists are torchvision's, as timm builds them. The same for a ViT: a tiny
// one timm saved with its model_args (so that its heads are known from config.json alone), and
// timm's plain ViTs, the architectures finetorch accepts, built with the arguments finetorch reads
// off their names.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARCH_NAMES, ResNet, VisionTransformer, setNumThreads } from '../../lib';
import { timmCard } from '../../lib/cli/weights-source';
import { pretrainedWeights } from '../../lib/model/torchvision-weights';
import { TIMM_VIT_ARCHS, listHubWeights } from '../../lib/model/timm-ids';
import { parseVitArch } from '../../lib/model/vit-architectures';
import type { HubDownloadOptions, HubWeights } from '../../lib/model/timm-weights';
import type { Model } from '../../lib/model/model';
import { assertClose } from '../helpers/compare';
import { HubServer } from '../helpers/hub-server';
import { readFloat32, runPython, tempDir } from '../helpers/python';

const ecosystem = { ecosystem: true };
const REPO = 'timm/resnet18.a1_in1k';
const VIT_REPO = 'timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k';
const server = new HubServer();
const tmp = tempDir('finetorch-hf-hub-parity-');
const repoDir = path.join(tmp.dir, 'repo');
const vitRepoDir = path.join(tmp.dir, 'vit-repo');
let commit: string;

/** Every path under `dir` (but huggingface_hub's lock folder and CACHEDIR.TAG), symlinks as 'name -> target', ref files with their content. */
function layout(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => !p.startsWith('.locks') && p !== 'CACHEDIR.TAG').sort().map((p) => {
      const full = path.join(dir, p);
      if (fs.lstatSync(full).isSymbolicLink()) return `${p} -> ${fs.readlinkSync(full)}`;
      return p.includes(`refs${path.sep}`) ? `${p} = ${fs.readFileSync(full, 'utf8')}` : p;
    });
}

function opts(cacheDir: string, extra: HubDownloadOptions = {}): HubDownloadOptions {
  return { cacheDir, endpoint: server.endpoint, token: false, offline: false, progress: false, ...extra };
}

before(async () => {
  setNumThreads(1);
  fs.mkdirSync(repoDir);
  fs.mkdirSync(vitRepoDir);
  await runPython('hf_hub_reference.py', ['repo', repoDir, 'resnet18.a1_in1k', '10'], ecosystem);
  await runPython('hf_hub_reference.py', ['vit-repo', vitRepoDir], ecosystem);
  await server.start();
  commit = server.push(REPO, {
    'config.json': fs.readFileSync(path.join(repoDir, 'config.json')),
    'model.safetensors': fs.readFileSync(path.join(repoDir, 'model.safetensors')),
    'README.md': Buffer.from('# resnet18.a1_in1k\n'),
  });
  server.push(VIT_REPO, {
    'config.json': fs.readFileSync(path.join(vitRepoDir, 'config.json')),
    'model.safetensors': fs.readFileSync(path.join(vitRepoDir, 'model.safetensors')),
  });
});
after(async () => {
  await server.stop();
  tmp.cleanup();
});

interface TimmReport {
  config: { mean: number[]; std: number[]; input_size: number[]; crop_pct: number; crop_mode: string };
  resize: number | number[];
  interpolation: string;
  crop: number[];
}

/**
 * timm's create_model(hf-hub id, pretrained=True) offline from `cache` against `net` (disposed
 * here) on the repo's saved input ([2, 3, size, size]): the same logits, and those timm saved the
 * repo with; and timm's eval transform for the weights is the one finetorch's card holds.
 */
async function sameAsTimm(repo: string, dir: string, cache: string, got: HubWeights, size: number, net: Model): Promise<TimmReport> {
  const timmOut = path.join(dir, 'timm-logits.f32');
  const input = path.join(dir, 'input.f32');
  const timm = JSON.parse(await runPython('hf_hub_reference.py', ['timm', cache, `hf-hub:${repo}`, input, timmOut, String(size)], ecosystem)) as TimmReport;
  const logits = await net.eval().forward({ dtype: 'float32', shape: [2, 3, size, size], data: readFloat32(input) });
  net.dispose();
  assertClose(logits.data, readFloat32(timmOut), 1e-4, 'finetorch vs timm from the same cache');
  assertClose(readFloat32(timmOut), readFloat32(path.join(dir, 'logits.f32')), 1e-6, 'timm from the cache vs the model it saved');
  const card = timmCard(got.config, `${repo}/config.json`);
  assert.deepEqual([timm.resize, timm.interpolation, timm.crop], [card.eval.resize, card.eval.interpolation, [card.eval.centerCrop, card.eval.centerCrop]]);
  assertClose(card.eval.mean, timm.config.mean, 0, 'mean');
  assertClose(card.eval.std, timm.config.std, 0, 'std');
  return timm;
}

describe('the Hub cache against huggingface_hub and timm', () => {
  it("Python finds what finetorch downloaded (hf_hub_download, try_to_load_from_cache offline), and timm loads it with finetorch's logits", async () => {
    const cache = path.join(tmp.dir, 'finetorch-cache');
    const got = await pretrainedWeights(`hf-hub:${REPO}`, opts(cache));
    for (const revision of ['main', commit]) {
      const found = JSON.parse(await runPython('hf_hub_reference.py', ['offline', cache, REPO, 'model.safetensors', revision], ecosystem));
      assert.deepEqual(found, { download: got.file, cached: got.file }, revision);
    }
    const net = await ResNet.pretrained(`hf-hub:${REPO}`, opts(cache, { offline: true }));
    const timm = await sameAsTimm(REPO, repoDir, cache, got, 64, net);
    assert.deepEqual([timm.config.input_size, timm.config.crop_pct, timm.config.crop_mode], [got.config.inputSize, got.config.cropPct, got.config.cropMode]);
  });

  it("finetorch finds (offline) what Python's hf_hub_download fetched from the same server, laid out as finetorch lays it out", async () => {
    const pythonCache = path.join(tmp.dir, 'python-cache');
    const fetched = JSON.parse(await runPython('hf_hub_reference.py', ['download', server.endpoint, pythonCache, REPO, 'config.json', 'model.safetensors'], ecosystem));
    server.requests.length = 0;
    const got = await pretrainedWeights(`hf-hub:${REPO}`, opts(pythonCache, { offline: true }));
    assert.deepEqual([got.configFile, got.file, got.commit, got.downloaded], [fetched['config.json'], fetched['model.safetensors'], commit, false]);
    assert.deepEqual(server.requests, []);
    const ours = path.join(tmp.dir, 'finetorch-cache-2');
    await pretrainedWeights(`hf-hub:${REPO}`, opts(ours));
    assert.deepEqual(layout(ours), layout(pythonCache));
  });

  it('the hf-hub: ids finetorch lists are timm 1.0.29\'s, on architectures timm builds with torchvision\'s keys, shapes and logits', async () => {
    const archs: Record<string, { same_layout: boolean; max_abs_diff: number; tags: string[]; hosted: boolean }> =
      JSON.parse(await runPython('hf_hub_reference.py', ['archs'], ecosystem));
    assert.deepEqual(Object.keys(archs), [...ARCH_NAMES]);
    for (const arch of ARCH_NAMES) {
      const { same_layout: sameLayout, max_abs_diff: diff, tags, hosted } = archs[arch];
      assert.ok(sameLayout && hosted, arch);
      assert.ok(diff < 1e-5, `${arch}: timm and torchvision differ by ${diff}`);
      assert.deepEqual(listHubWeights().filter((w) => w.arch === arch).map((w) => w.tag), tags, arch);
    }
  });

  it("a ViT: Python finds what finetorch downloaded, timm loads it (its model_args) with finetorch's logits and transform", async () => {
    const cache = path.join(tmp.dir, 'finetorch-vit-cache');
    const got = await pretrainedWeights(`hf-hub:${VIT_REPO}`, opts(cache));
    const found = JSON.parse(await runPython('hf_hub_reference.py', ['offline', cache, VIT_REPO, 'model.safetensors', 'main'], ecosystem));
    assert.deepEqual(found, { download: got.file, cached: got.file });
    assert.deepEqual([got.arch, got.config.vit, got.config.numClasses, got.config.labelNames], ['vit_tiny_patch16_224', {
      imgSize: 32, patchSize: 8, embedDim: 48, depth: 2, numHeads: 3, mlpRatio: 4, qkvBias: true, classToken: true,
      globalPool: 'token', fcNorm: false, dropPathRate: 0,
    }, 5, ['ant', 'bee', 'cat', 'dog', 'eel']]);
    const net = await VisionTransformer.pretrained(`hf-hub:${VIT_REPO}`, opts(cache, { offline: true }));
    assert.deepEqual([net.config.numHeads, net.numClasses, net.config.imgSize], [3, 5, 32]);
    await sameAsTimm(VIT_REPO, vitRepoDir, cache, got, 32, net);
    await assert.rejects(ResNet.pretrained(`hf-hub:${VIT_REPO}`, opts(cache, { offline: true })),
      { code: 'ERR_FINETORCH_HUB', message: /holds timm's vit_tiny_patch16_224, a Vision Transformer: VisionTransformer\.pretrained/ });
    await assert.rejects(VisionTransformer.pretrained(`hf-hub:${REPO}`, opts(cache)),
      { code: 'ERR_FINETORCH_HUB', message: /holds timm's resnet18, a ResNet: ResNet\.pretrained/ });
  });

  it("the ViT architectures finetorch accepts are all of timm 1.0.29's plain ones, built as their names say; the hf-hub: ids listed are timm's", async () => {
    const archs: Record<string, {
      imgSize: number[]; patchSize: number[]; embedDim: number; depth: number; numHeads: number; mlpHidden: number; qkvBias: boolean;
      classToken: boolean; globalPool: string; fcNorm: boolean; plain: boolean; tags: string[]; hosted: boolean;
    }> = JSON.parse(await runPython('hf_hub_reference.py', ['vit-archs'], ecosystem));
    assert.deepEqual(Object.keys(archs).sort(), [...TIMM_VIT_ARCHS].sort());
    for (const arch of TIMM_VIT_ARCHS) {
      const t = archs[arch];
      const named = parseVitArch(arch)!;
      assert.ok(t.plain && t.hosted, arch);
      assert.deepEqual([t.imgSize, t.patchSize, t.embedDim, t.depth, t.numHeads, t.mlpHidden, t.qkvBias, t.classToken, t.globalPool, t.fcNorm],
        [[named.imgSize, named.imgSize], [named.patchSize, named.patchSize], named.embedDim, named.depth, named.numHeads, 4 * named.embedDim,
          true, true, 'token', false], arch);
      assert.deepEqual(listHubWeights().filter((w) => w.arch === arch).map((w) => w.tag), t.tags, arch);
    }
  });
});
