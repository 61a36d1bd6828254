// Pretrained weights the way torch.hub fetches them, against a local HTTP server: the hash prefix
// in the file name is checked, redirects are followed, a cut connection keeps its bytes under a
// name that is not the final one and the next call resumes them with a Range request, the cache
// folder is torch.hub's, and a cached file is used without the network. (test/parity/hub.test.ts
// checks the same against PyTorch itself, test/e2e/weights-cli.test.ts the finetorch weights command.)
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DownloadError, downloadUrlToFile, hashPrefixOf, partialPathFor } from '../../lib/hub/download';
import { fileIntoCache, hubDir } from '../../lib/hub/torch-hub';
import { MAE_BASE_URL_ENV, maePretrainedWeights } from '../../lib/model/mae-weights';
import { BASE_URL_ENV, checkArch, importWeights, listWeights, pretrainedWeights, weightsInfo } from '../../lib/model/torchvision-weights';
import { content, dir, name, server, tmp, useWeightsFixture } from '../helpers/weights-fixture';
import { WeightsServer } from '../helpers/weights-server';

useWeightsFixture();

/** The files in `dir` other than `keep`: no temporary or partial file may be left behind. */
function others(dir: string, ...keep: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => !keep.includes(f));
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<DownloadError> {
  let caught: unknown;
  await promise.catch((err) => { caught = err; });
  assert.ok(caught instanceof DownloadError, `expected a DownloadError, got ${caught}`);
  assert.equal(caught.code, code);
  assert.match(caught.message, pattern);
  return caught;
}


describe('downloadUrlToFile', () => {
  it('downloads, checks the hash prefix and leaves only the final file', async () => {
    const dst = path.join(dir, name);
    await downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name) });
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.deepEqual(others(dir, name), []);
  });

  it('follows redirects (307, 302 relative, 301 absolute)', async () => {
    server.plan.push('redirect');
    const dst = path.join(dir, name);
    await downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name) });
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.deepEqual(server.requests.map((r) => r.status), [307, 302, 301, 200]);
  });

  it('refuses a file whose SHA-256 does not match and keeps nothing', async () => {
    const dst = path.join(dir, 'tiny-00000000.pth');
    server.files.set('tiny-00000000.pth', content);
    const err = await rejectsWith(downloadUrlToFile(server.baseUrl + 'tiny-00000000.pth', dst, { hashPrefix: '00000000' }),
      'ERR_FINETORCH_HASH_MISMATCH', /invalid hash value .*expected "00000000", got "[0-9a-f]{64}"/);
    assert.equal(err.url, server.baseUrl + 'tiny-00000000.pth');
    assert.deepEqual(others(dir), []);
  });

  it('keeps the bytes of a cut connection under another name, then resumes them with a Range request', async () => {
    const dst = path.join(dir, name);
    server.plan.push('cut');
    await rejectsWith(downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name), retries: 0 }),
      'ERR_FINETORCH_DOWNLOAD_INTERRUPTED', /connection was cut after \d+ of \d+ bytes/);
    assert.ok(!fs.existsSync(dst), 'a partial download must not have the final name');
    assert.deepEqual(others(dir), [path.basename(partialPathFor(dst))]);
    const kept = fs.readFileSync(partialPathFor(dst));
    assert.ok(kept.length > 0 && kept.length < content.length);
    assert.deepEqual(kept, content.subarray(0, kept.length));

    await downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name) });
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.deepEqual(others(dir, name), []);
    const resumed = server.requests.at(-1)!;
    assert.equal(resumed.range, `bytes=${kept.length}-`);
    assert.equal(resumed.status, 206);
    assert.equal(resumed.bytes, content.length - kept.length);
  });

  it('hears a connection cut while its partial file opens: a tiny file cut 30 times, each call ends with the bytes kept', async () => {
    const tiny = Buffer.from('tiny file, cut in half by the server'.repeat(2));
    server.files.set('tiny.bin', tiny);
    const dst = path.join(dir, 'tiny.bin');
    for (let i = 0; i < 30; i++) {
      server.plan.push('cut');
      const call = downloadUrlToFile(server.baseUrl + 'tiny.bin', dst, { retries: 0, timeout: 5000 });
      const hung = new Promise((resolve) => setTimeout(resolve, 10_000, 'hung')).then((v) => { throw new Error(`call ${i} ${v}`); });
      await assert.rejects(Promise.race([call, hung]), { code: 'ERR_FINETORCH_DOWNLOAD_INTERRUPTED' }, `call ${i}`);
      assert.ok(fs.readFileSync(partialPathFor(dst)).equals(tiny.subarray(0, tiny.length / 2)), `call ${i}`);
      fs.rmSync(partialPathFor(dst));
    }
  });

  it('keeps the bytes of a cut connection through a later server error', async () => {
    const dst = path.join(dir, name);
    server.plan.push('cut', 'not-found');
    const options = { hashPrefix: hashPrefixOf(name), retries: 0 };
    await rejectsWith(downloadUrlToFile(server.baseUrl + name, dst, options), 'ERR_FINETORCH_DOWNLOAD_INTERRUPTED', /cut/);
    const kept = fs.statSync(partialPathFor(dst)).size;
    await rejectsWith(downloadUrlToFile(server.baseUrl + name, dst, options), 'ERR_FINETORCH_HTTP', /HTTP 404/);
    assert.equal(fs.statSync(partialPathFor(dst)).size, kept);
    await downloadUrlToFile(server.baseUrl + name, dst, options);
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.equal(server.requests.at(-1)!.range, `bytes=${kept}-`);
  });

  it('resumes within one call when retries allow', async () => {
    const dst = path.join(dir, name);
    server.plan.push('cut');
    await downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name), retries: 1 });
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.deepEqual(server.requests.map((r) => r.status), [200, 206]);
  });

  it('starts over when the server ignores the Range request', async () => {
    const dst = path.join(dir, name);
    server.plan.push('cut', 'ignore-range');
    await downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name), retries: 1 });
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.deepEqual(server.requests.map((r) => [r.status, r.bytes]), [[200, Math.floor(content.length / 2)], [200, content.length]]);
  });

  it('starts over once when resumed bytes belong to another file (the hash fails)', async () => {
    const dst = path.join(dir, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(partialPathFor(dst), Buffer.alloc(100, 7));
    await downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name) });
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.deepEqual(server.requests.map((r) => r.status), [206, 200]);
    assert.deepEqual(others(dir, name), []);
  });

  it('starts over when the kept bytes are longer than the file (416)', async () => {
    const dst = path.join(dir, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(partialPathFor(dst), Buffer.alloc(content.length + 10));
    await downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name) });
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.deepEqual(server.requests.map((r) => r.status), [416, 200]);
  });

  it('counts a stalled connection as cut after the timeout', async () => {
    const dst = path.join(dir, name);
    server.plan.push('stall');
    await rejectsWith(downloadUrlToFile(server.baseUrl + name, dst, { retries: 0, timeout: 300 }),
      'ERR_FINETORCH_DOWNLOAD_INTERRUPTED', /cut after 1000 of \d+ bytes/);
    assert.equal(fs.statSync(partialPathFor(dst)).size, 1000);
  });

  it('reports an HTTP error status with its code and status', async () => {
    const err = await rejectsWith(downloadUrlToFile(server.baseUrl + 'missing-12345678.pth', path.join(dir, 'x.pth')),
      'ERR_FINETORCH_HTTP', /HTTP 404/);
    assert.equal(err.status, 404);
    assert.deepEqual(others(dir), []);
  });

  it('reports an unreachable server as a network error', async () => {
    const closed = new WeightsServer();
    await closed.start();
    const url = `${closed.baseUrl}${name}`;
    await closed.stop();
    await rejectsWith(downloadUrlToFile(url, path.join(dir, name)), 'ERR_FINETORCH_NETWORK', /ECONNREFUSED|connect/);
    assert.deepEqual(others(dir), []);
  });

  it('lets two concurrent downloads of one file both succeed', async () => {
    const dst = path.join(dir, name);
    await Promise.all([0, 1].map(() => downloadUrlToFile(server.baseUrl + name, dst, { hashPrefix: hashPrefixOf(name) })));
    assert.deepEqual(fs.readFileSync(dst), content);
    assert.deepEqual(others(dir, name), []);
  });

  it('validates its options', async () => {
    await assert.rejects(downloadUrlToFile(server.baseUrl + name, path.join(dir, name), { hash_prefix: 'ab' } as never),
      { code: 'ERR_FINETORCH_UNKNOWN_OPTION', message: /did you mean 'hashPrefix'/ });
    await assert.rejects(downloadUrlToFile(server.baseUrl + name, path.join(dir, name), { hashPrefix: 'F37072FD' }), RangeError);
    await assert.rejects(downloadUrlToFile(server.baseUrl + name, path.join(dir, name), { retries: -1 }), RangeError);
    assert.deepEqual(server.requests, []);
  });

  it('draws a progress line on stderr when asked', async () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => { written.push(String(chunk)); return true; }) as typeof write;
    try {
      await downloadUrlToFile(server.baseUrl + name, path.join(dir, name), { progress: true });
    } finally {
      process.stderr.write = write;
    }
    const size = (content.length / 2 ** 20).toFixed(1);
    assert.match(written.join(''), new RegExp(`\\r${name.replace('.', '\\.')}  ${size}/${size} MiB  100%.*\\n$`));
  });
});

describe('torch.hub conventions', () => {
  it("finds the hash prefix as torch.hub's HASH_REGEX does", () => {
    assert.equal(hashPrefixOf('resnet18-f37072fd.pth'), 'f37072fd');
    assert.equal(hashPrefixOf('wide_resnet50_2-95faca4d.pth'), '95faca4d');
    assert.equal(hashPrefixOf('a-b-c.pth'), 'c');
    assert.equal(hashPrefixOf('weights.pth'), undefined);
  });

  it('puts the cache where torch.hub.get_dir() does', () => {
    const home = os.homedir();
    assert.equal(hubDir({ TORCH_HOME: '/t' }), '/t/hub');
    assert.equal(hubDir({ TORCH_HOME: '~/t', XDG_CACHE_HOME: '/x' }), path.join(home, 't', 'hub'));
    assert.equal(hubDir({ XDG_CACHE_HOME: '/x' }), '/x/torch/hub');
    assert.equal(hubDir({}), path.join(home, '.cache', 'torch', 'hub'));
  });

  it("names weights as torchvision does, DEFAULT included", () => {
    assert.equal(weightsInfo('resnet18').url, 'https://download.pytorch.org/models/resnet18-f37072fd.pth');
    assert.equal(weightsInfo('resnet18').enumName, 'ResNet18_Weights.IMAGENET1K_V1');
    assert.equal(weightsInfo('resnet50').name, 'IMAGENET1K_V2');
    assert.equal(weightsInfo('resnet50', 'ResNet50_Weights.IMAGENET1K_V1').fileName, 'resnet50-0676ba61.pth');
    assert.throws(() => weightsInfo('resnet18', 'IMAGENET1K_V2'), { code: 'ERR_FINETORCH_INVALID_ARG', message: /'DEFAULT', 'IMAGENET1K_V1'/ });
    assert.throws(() => weightsInfo('resnet18', 'ResNet50_Weights.IMAGENET1K_V1'), RangeError);
    assert.throws(() => checkArch('here', 'resnet-18'), { code: 'ERR_FINETORCH_INVALID_ARG', message: /did you mean 'resnet18'/ });
    assert.throws(() => checkArch('here', 18), TypeError);
    assert.equal(listWeights().length, 17);
  });
});

describe('pretrainedWeights', () => {
  it("uses a file already in torch.hub's cache ($TORCH_HOME) without the network", async () => {
    const checkpoints = path.join(dir, 'hub', 'checkpoints');
    fs.mkdirSync(checkpoints, { recursive: true });
    fs.writeFileSync(path.join(checkpoints, 'resnet18-f37072fd.pth'), content);
    const saved = { home: process.env.TORCH_HOME, base: process.env[BASE_URL_ENV] };
    process.env.TORCH_HOME = dir;
    process.env[BASE_URL_ENV] = 'http://127.0.0.1:9/models/'; // nothing listens on the discard port
    try {
      const got = await pretrainedWeights('resnet18');
      assert.equal(got.file, path.join(checkpoints, 'resnet18-f37072fd.pth'));
      assert.equal(got.downloaded, false);
      // Checking the cached copy's hash is asked for explicitly (torch.hub trusts the cache).
      await rejectsWith(pretrainedWeights('resnet18', { verifyCached: true }), 'ERR_FINETORCH_HASH_MISMATCH', /delete it/);
    } finally {
      for (const [key, value] of [['TORCH_HOME', saved.home], [BASE_URL_ENV, saved.base]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    assert.equal(server.requests.length, 0);
  });

  it("downloads from the base URL and checks the table's hash prefix", async () => {
    await rejectsWith(pretrainedWeights('resnet18', { modelDir: dir, baseUrl: server.baseUrl.slice(0, -1), progress: false }),
      'ERR_FINETORCH_HASH_MISMATCH', /expected "f37072fd"/);
    assert.deepEqual(server.requests.map((r) => r.path), ['/models/resnet18-f37072fd.pth']);
    assert.deepEqual(others(dir), []);
  });

  it('offline, says which file to bring, where it goes, how to file it, and --base-url', async () => {
    const err = await rejectsWith(pretrainedWeights('resnet18', { modelDir: dir, baseUrl: 'http://127.0.0.1:9/models/', progress: false }),
      'ERR_FINETORCH_NETWORK', /cannot download http:\/\/127\.0\.0\.1:9\/models\/resnet18-f37072fd\.pth: .*ECONNREFUSED/);
    assert.ok(err.message.includes('Without network, bring resnet18-f37072fd.pth from a machine that has it (in its torch.hub cache, or from ' +
      `https://download.pytorch.org/models/resnet18-f37072fd.pth) and file it with 'finetorch weights import FILE' (importWeights(file)), ` +
      `or copy it into ${dir}; or point baseUrl ($${BASE_URL_ENV}, --base-url) at a mirror`), err.message);
  });

  it('validates its options', async () => {
    await assert.rejects(pretrainedWeights('resnet18', { model_dir: dir } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION', message: /did you mean 'modelDir'/ });
    await assert.rejects(pretrainedWeights('resnet18', { baseUrl: 'ftp://x' }), { code: 'ERR_FINETORCH_INVALID_ARG' });
    await assert.rejects(pretrainedWeights('resnet19' as never), { message: /did you mean 'resnet18'/ });
  });
});

describe('importWeights', () => {
  it('files a published file under its published name once the hash prefix matches', async () => {
    const source = path.join(tmp.dir, 'brought.pth');
    fs.writeFileSync(source, content);
    const got = await fileIntoCache(source, [{ fileName: 'other-00000000.pth' }, { fileName: name }], dir);
    assert.deepEqual(got, { fileName: name, file: path.join(dir, name), downloaded: false });
    assert.deepEqual(fs.readFileSync(path.join(dir, name)), content);
    assert.deepEqual(others(dir, name), [], 'no temporary file left');
  });

  it("refuses a file that is none of torchvision's published weights, and names a file that cannot be read", async () => {
    const source = path.join(tmp.dir, 'resaved.pth');
    fs.writeFileSync(source, content);
    await rejectsWith(importWeights(source, { modelDir: dir }), 'ERR_FINETORCH_HASH_MISMATCH',
      /resaved\.pth: its SHA-256 \([0-9a-f]{8}\.\.\.\) starts with none of the hash prefixes of torchvision's published weights/);
    await assert.rejects(importWeights(path.join(tmp.dir, 'nowhere.pth'), { modelDir: dir }), { code: 'ERR_FINETORCH_INVALID_ARG', message: /cannot read .*nowhere\.pth/ });
    assert.equal(fs.existsSync(dir), false);
  });
});

describe('maePretrainedWeights', () => {
  it("downloads MAE's file by its name and checks the MD5 prefix of MAE's README", async () => {
    server.files.set('mae_pretrain_vit_base.pth', content); // not MAE's file: its MD5 cannot match
    await rejectsWith(maePretrainedWeights('mae_pretrain_vit_base', { modelDir: dir, baseUrl: server.baseUrl, progress: false }),
      'ERR_FINETORCH_HASH_MISMATCH', /expected MD5 "8cad7c"/);
    assert.deepEqual(server.requests.map((r) => r.path), ['/models/mae_pretrain_vit_base.pth']);
    assert.deepEqual(others(dir), []);
  });

  it("uses a file in torch.hub's cache without the network; verifyCached checks its MD5", async () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'mae_pretrain_vit_large.pth'), content);
    const saved = process.env[MAE_BASE_URL_ENV];
    process.env[MAE_BASE_URL_ENV] = 'http://127.0.0.1:9/'; // nothing listens on the discard port
    try {
      const got = await maePretrainedWeights('mae_pretrain_vit_large', { modelDir: dir });
      assert.deepEqual([got.file, got.downloaded, got.arch, got.md5Prefix, got.url],
        [path.join(dir, 'mae_pretrain_vit_large.pth'), false, 'vit_large_patch16', 'b8b06e', 'http://127.0.0.1:9/mae_pretrain_vit_large.pth']);
      await rejectsWith(maePretrainedWeights('mae_pretrain_vit_large', { modelDir: dir, verifyCached: true }), 'ERR_FINETORCH_HASH_MISMATCH', /delete it/);
      // Offline, a file not in the cache fails with what to do instead.
      await rejectsWith(maePretrainedWeights('mae_pretrain_vit_huge', { modelDir: dir }), 'ERR_FINETORCH_NETWORK',
        /Without network, bring mae_pretrain_vit_huge\.pth .*FINETORCH_MAE_BASE_URL/);
    } finally {
      if (saved === undefined) delete process.env[MAE_BASE_URL_ENV];
      else process.env[MAE_BASE_URL_ENV] = saved;
    }
    assert.equal(server.requests.length, 0);
    await assert.rejects(maePretrainedWeights('mae_pretrain_vit_bse' as never), { code: 'ERR_FINETORCH_INVALID_ARG', message: /did you mean 'mae_pretrain_vit_base'/ });
  });
});
