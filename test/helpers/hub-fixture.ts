// A local Hugging Face Hub for the Hub tests: one timm repo pushed (config.json, model.safetensors,
// a README), a fresh cache folder per test, and the download options that point at them. The
// values are live: they are set by the hooks useHubFixture registers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, beforeEach } from 'node:test';
import type { HubDownloadOptions } from '../../lib/model/timm-weights';
import { saveSafetensors } from '../../lib/safetensors';
import { HubServer, timmConfig } from './hub-server';
import { tempDir } from './python';

export const server = new HubServer();
export const tmp = tempDir('finetorch-hf-hub-');
export const REPO = 'timm/resnet18.a1_in1k';

export let weights: Buffer;
export let config: Buffer;
export let commit: string;
export let cacheDir: string;
let n = 0;

export function opts(extra: HubDownloadOptions = {}): HubDownloadOptions {
  return { cacheDir, endpoint: server.endpoint, token: false, offline: false, progress: false, retries: 0, ...extra };
}

export function repoFolder(repo = REPO): string {
  return path.join(cacheDir, `models--${repo.replace('/', '--')}`);
}

/** Every path under `dir`, relative, with symlinks shown as 'name -> target'. */
export function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((p) => {
    const full = path.join(dir, p);
    return fs.lstatSync(full).isSymbolicLink() ? `${p} -> ${fs.readlinkSync(full)}` : p;
  });
}

/** The hooks of a test file that uses the fixture: the server started with the repo, a fresh cache per test. */
export function useHubFixture(): void {
  before(async () => {
    const made = path.join(tmp.dir, 'made.safetensors');
    await saveSafetensors(made, { 'fc.weight': { dtype: 'float32', shape: [3, 4], data: new Float32Array(12).map((_, i) => i) } });
    weights = fs.readFileSync(made);
    config = timmConfig(3);
    await server.start();
    commit = server.push(REPO, { 'config.json': config, 'model.safetensors': weights, 'README.md': Buffer.from('# resnet18') });
  });
  after(async () => {
    await server.stop();
    tmp.cleanup();
  });
  beforeEach(() => {
    cacheDir = path.join(tmp.dir, `cache-${n++}`);
    server.requests.length = 0;
    server.hubPlan.length = 0;
    server.cdnPlan.length = 0;
  });
}
