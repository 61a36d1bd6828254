// finetorch weights end to end: get, list and import as a user runs them, against the local server
// standing in for download.pytorch.org (test/pure/hub.test.ts tests the library under them).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { BASE_URL_ENV } from '../../lib/model/torchvision-weights';
import { cli } from '../helpers/cli';
import { content, dir, server, tmp, useWeightsFixture } from '../helpers/weights-fixture';

useWeightsFixture();

describe('finetorch weights', () => {
  it('get prints the cached file; list shows the table; mistakes exit 2', async () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'resnet34-b627a593.pth'), content);
    const got = await cli(['weights', 'get', 'resnet34', '--model-dir', dir]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, `${path.join(dir, 'resnet34-b627a593.pth')}\n`);
    assert.match(got.stderr, /ResNet34_Weights.IMAGENET1K_V1: already in the cache/);

    const listed = await cli(['weights', 'list'], undefined, { TORCH_HOME: dir });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /resnet50\s+IMAGENET1K_V2\s+yes\s+80\.858/);
    assert.match(listed.stdout, new RegExp(`cache: ${dir}/hub/checkpoints`));
    // timm's on the Hub: the ResNets and the ViTs.
    assert.match(listed.stdout, /\nresnet50\s+hf-hub:timm\/resnet50\.a1_in1k\n/);
    assert.match(listed.stdout, /\nvit_base_patch16_224\s+hf-hub:timm\/vit_base_patch16_224\.mae\n/);
    assert.match(listed.stdout, /\nvit_small_patch16_224\s+hf-hub:timm\/vit_small_patch16_224\.augreg_in21k_ft_in1k\n/);

    fs.writeFileSync(path.join(dir, 'mae_pretrain_vit_huge.pth'), content);
    const mae = await cli(['weights', 'get', 'mae_pretrain_vit_huge', '--model-dir', dir]);
    assert.equal(mae.code, 0, mae.stderr);
    assert.equal(mae.stdout, `${path.join(dir, 'mae_pretrain_vit_huge.pth')}\n`);
    assert.match(mae.stderr, /mae_pretrain_vit_huge: already in the cache/);
    assert.match((await cli(['weights', 'get', 'mae_pretrain_vit_hug'])).stderr, /did you mean 'mae_pretrain_vit_huge'/);
    assert.equal((await cli(['weights', 'get', 'mae_pretrain_vit_huge', '--weights', 'IMAGENET1K_V1'])).code, 2);

    const misspelt = await cli(['weights', 'get', 'resnet-18']);
    assert.equal(misspelt.code, 2);
    assert.match(misspelt.stderr, /did you mean 'resnet18'/);
    assert.equal((await cli(['weights', 'fetch', 'resnet18'])).code, 2);
    assert.equal((await cli(['weights', 'list', '--weights', 'IMAGENET1K_V2'])).code, 2);
    const help = await cli(['weights', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: finetorch weights list .*\n {7}finetorch weights get ARCH/);
  });

  it('get offline and import of a file that is not published fail with one line that says what to do', async () => {
    const offline = await cli(['weights', 'get', 'resnet18', '--model-dir', dir, '--base-url', 'http://127.0.0.1:9/models/']);
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /^finetorch weights: error: cannot download .*Without network, bring resnet18-f37072fd\.pth .*'finetorch weights import FILE'.*--base-url/);
    assert.equal(offline.stderr.trim().split('\n').length, 1);
    const source = path.join(tmp.dir, 'resaved.pth');
    fs.writeFileSync(source, content);
    const imported = await cli(['weights', 'import', source, '--model-dir', dir]);
    assert.equal(imported.code, 1);
    assert.match(imported.stderr, /^finetorch weights: error: .*resaved\.pth: its SHA-256 .* starts with none of the hash prefixes/);
    assert.equal((await cli(['weights', 'import'])).code, 2);
  });

  it('get fails with one line when the download is wrong', async () => {
    const got = await cli(['weights', 'get', 'resnet18', '--model-dir', dir], undefined, { [BASE_URL_ENV]: server.baseUrl });
    assert.equal(got.code, 1);
    assert.match(got.stderr, /^finetorch weights: error: invalid hash value/m);
    assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], []);
  });
});
