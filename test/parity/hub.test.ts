// Pretrained weights against PyTorch itself: the table of URLs and DEFAULTs is torchvision's, the
// cache folder and hash prefix are torch.hub's, and a .pth made by PyTorch goes through the local
// server (redirects, a cut connection, a resumed download, a wrong hash) into the one cache that
// both sides use: what finetorch downloaded, torch.hub loads without downloading it again, and
// what torch.hub downloaded, finetorch uses offline (ResNet18.pretrained() included).
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResNet, ResNet18 } from '../../lib';
import { DownloadError, downloadUrlToFile, hashPrefixOf } from '../../lib/hub/download';
import { hubDir } from '../../lib/hub/torch-hub';
import { BASE_URL_ENV, listWeights, pretrainedWeights } from '../../lib/model/torchvision-weights';
import { loadPth } from '../../lib/pth';
import { runPython, tempDir } from '../helpers/python';
import { WeightsServer } from '../helpers/weights-server';

const tmp = tempDir('finetorch-hub-parity-');
const server = new WeightsServer();
const savedTorchHome = process.env.TORCH_HOME;
let made: { sha256: string; tensors: string };
let content: Buffer;

async function tensorsDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for (const [key, t] of await loadPth(file)) {
    hash.update(key);
    hash.update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex');
}

before(async () => {
  const file = path.join(tmp.dir, 'made.pth');
  made = JSON.parse(await runPython('hub_reference.py', ['make', file]));
  content = fs.readFileSync(file);
  await server.start();
  // Every process of this test (Python included) uses this cache.
  process.env.TORCH_HOME = path.join(tmp.dir, 'torch');
});
after(async () => {
  if (savedTorchHome === undefined) delete process.env.TORCH_HOME;
  else process.env.TORCH_HOME = savedTorchHome;
  await server.stop();
  tmp.cleanup();
});

describe('the conventions are torch.hub and torchvision 0.14', () => {
  it('same weights table, cache folders and hash prefixes', async () => {
    const names = ['resnet18-f37072fd.pth', 'resnext101_32x8d-8ba56ff5.pth', 'a-b-c.pth', 'x-.pth', 'weights.pth', 'r-ABCDEF12.pth'];
    const envs = [{}, { TORCH_HOME: '/t' }, { TORCH_HOME: '~/t', XDG_CACHE_HOME: '/x' }, { XDG_CACHE_HOME: '/x' }, { XDG_CACHE_HOME: '~/x' }];
    const ref = JSON.parse(await runPython('hub_reference.py', ['conventions', JSON.stringify(names), JSON.stringify(envs)]));
    const mine = listWeights().map((w) => ({
      arch: w.arch, name: w.name, enumName: w.enumName, url: w.url, numParams: w.numParams, acc1: w.imagenet.acc1, acc5: w.imagenet.acc5,
      resizeSize: w.transforms.resizeSize, cropSize: w.transforms.cropSize, isDefault: w.isDefault,
    }));
    assert.deepEqual(mine, ref.weights);
    assert.deepEqual(envs.map((env) => hubDir(env)), ref.hubDirs);
    assert.deepEqual(names.map((n) => hashPrefixOf(n) ?? null), ref.hashPrefixes);
  });
});

describe("a PyTorch-made .pth through the local server into torch.hub's cache", () => {
  it('redirected, cut, resumed: torch.hub then loads the same tensors without downloading', async () => {
    const name = `resnet18-${made.sha256.slice(0, 10)}.pth`;
    server.files.set(name, content);
    const file = path.join(hubDir(), 'checkpoints', name);
    server.plan.push('redirect', 'cut');
    await assert.rejects(downloadUrlToFile(server.baseUrl + name, file, { hashPrefix: hashPrefixOf(name), retries: 0 }),
      { code: 'ERR_FINETORCH_DOWNLOAD_INTERRUPTED' });
    assert.ok(!fs.existsSync(file));
    await downloadUrlToFile(server.baseUrl + name, file, { hashPrefix: hashPrefixOf(name) });
    assert.match(server.requests.at(-1)!.range ?? '', /^bytes=\d+-$/);
    assert.equal(server.requests.at(-1)!.status, 206);
    assert.equal(await tensorsDigest(file), made.tensors);
    const net = await ResNet18.load(file);
    net.dispose();

    const requests = server.requests.length;
    const loaded = JSON.parse(await runPython('hub_reference.py', ['load', server.baseUrl + name, '--check-hash']));
    assert.equal(loaded.dir, hubDir());
    assert.equal(loaded.tensors, made.tensors);
    assert.equal(server.requests.length, requests, 'torch.hub downloaded the file again');
  });

  it('a wrong hash is refused', async () => {
    server.files.set('resnet18-00000000.pth', content);
    const file = path.join(hubDir(), 'checkpoints', 'resnet18-00000000.pth');
    await assert.rejects(downloadUrlToFile(server.baseUrl + 'resnet18-00000000.pth', file, { hashPrefix: '00000000' }),
      (err) => err instanceof DownloadError && err.code === 'ERR_FINETORCH_HASH_MISMATCH' && err.message.includes(made.sha256));
    assert.ok(!fs.existsSync(file));
  });

  it("what torchvision's loader downloaded, pretrainedWeights uses offline", async () => {
    // Under torchvision's file name (torchvision does not check hashes, so PyTorch takes this copy).
    server.files.set('resnet18-f37072fd.pth', content);
    const loaded = JSON.parse(await runPython('hub_reference.py', ['load', `${server.baseUrl}resnet18-f37072fd.pth`]));
    assert.equal(loaded.tensors, made.tensors);
    const requests = server.requests.length;
    const got = await pretrainedWeights('resnet18', { baseUrl: 'http://127.0.0.1:9/models/' });
    assert.equal(got.downloaded, false);
    assert.equal(got.file, path.join(hubDir(), 'checkpoints', 'resnet18-f37072fd.pth'));
    const net = await ResNet18.pretrained({ baseUrl: 'http://127.0.0.1:9/models/' });
    assert.equal(net.arch, 'resnet18');
    assert.equal(net.fc.outFeatures, 1000);
    net.dispose();
    const general = await ResNet.pretrained({ arch: 'resnet18', weights: 'IMAGENET1K_V1', baseUrl: 'http://127.0.0.1:9/models/' });
    assert.equal(general.arch, 'resnet18');
    general.dispose();
    const savedBase = process.env[BASE_URL_ENV];
    process.env[BASE_URL_ENV] = 'http://127.0.0.1:9/models/'; // nothing listens on the discard port
    try {
      const short = await ResNet.pretrained('resnet18');
      assert.equal(short.fc.outFeatures, 1000);
      short.dispose();
    } finally {
      if (savedBase === undefined) delete process.env[BASE_URL_ENV];
      else process.env[BASE_URL_ENV] = savedBase;
    }
    await assert.rejects(ResNet18.pretrained({ arch: 'resnet50' } as never), { code: 'ERR_FINETORCH_INVALID_ARG' });
    await assert.rejects(ResNet.pretrained({ arch: 'resnet-18' } as never), { message: /did you mean 'resnet18'/ });
    assert.equal(server.requests.length, requests);
  });
});
