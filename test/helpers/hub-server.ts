// A local stand-in for the Hugging Face Hub and its CDN, answering as they answer huggingface_hub:
// the Hub (on 127.0.0.1) takes HEAD and GET of /<repo>/resolve/<revision>/<file> and answers with
// X-Repo-Commit and an ETag: a small file's git blob id, served there; for an LFS file
// (.safetensors, .bin) its sha256 as X-Linked-Etag with X-Linked-Size and a 302 to the CDN. Errors
// carry the Hub's X-Error-Code (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound). The CDN
// (on 127.0.0.2: another host, which must get no token) serves blobs by sha256 with Range. Both
// misbehave on request and record every request.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { Behaviour, Served, replier, serveBytes } from './weights-server';

/** What the Hub does wrong on its next answers, in order. */
export type HubBehaviour = 'normal' | 'no-commit' | 'bad-commit' | 'path-etag' | 'no-etag' | 'error-500';
/** What the CDN does on its next answers: as the torch.hub server, or serve other bytes than the blob's. */
export type CdnBehaviour = Behaviour | 'wrong-bytes';

export interface HubRequest extends Served {
  host: 'hub' | 'cdn';
  method: string;
  authorization: string | undefined;
}

interface Repo {
  commits: Map<string, Map<string, Buffer>>;
  refs: Map<string, string>;
  /** The token that may read it, when gated. */
  token?: string;
}

const LFS = /\.(safetensors|bin|pth)$/;

export function gitBlobSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** config.json as timm's save_config_for_hf writes it for resnet18.a1_in1k (num_classes changed to `classes`). */
export function timmConfig(classes: number, changes: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'resnet18', num_classes: classes, num_features: 512, global_pool: 'avg',
    pretrained_cfg: {
      tag: 'a1_in1k', custom_load: false, input_size: [3, 224, 224], test_input_size: [3, 288, 288], fixed_input_size: false,
      interpolation: 'bicubic', crop_pct: 0.95, test_crop_pct: 1.0, crop_mode: 'center', mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225], num_classes: classes, pool_size: [7, 7], first_conv: 'conv1', classifier: 'fc', ...changes,
    },
  }, null, 2));
}

export class HubServer {
  readonly requests: HubRequest[] = [];
  readonly hubPlan: HubBehaviour[] = [];
  readonly cdnPlan: CdnBehaviour[] = [];
  private readonly repos = new Map<string, Repo>();
  private readonly blobs = new Map<string, Buffer>();
  private hub?: http.Server;
  private cdn?: http.Server;
  private readonly sockets = new Set<Socket>();

  get endpoint(): string {
    return `http://127.0.0.1:${(this.hub!.address() as AddressInfo).port}`;
  }

  private get cdnBase(): string {
    return `http://127.0.0.2:${(this.cdn!.address() as AddressInfo).port}`;
  }

  /** Commits `files` to `repoId` (creating it) and points `branch` there; returns the commit hash. */
  push(repoId: string, files: Record<string, Buffer>, options: { branch?: string; gatedBy?: string } = {}): string {
    const repo: Repo = this.repos.get(repoId) ?? { commits: new Map(), refs: new Map() };
    this.repos.set(repoId, repo);
    if (options.gatedBy !== undefined) repo.token = options.gatedBy;
    const tree = new Map(Object.entries(files));
    const commit = createHash('sha1').update(repoId).update(String(repo.commits.size))
      .update([...tree].map(([name, bytes]) => `${name}:${sha256(bytes)}`).join(',')).digest('hex');
    repo.commits.set(commit, tree);
    repo.refs.set(options.branch ?? 'main', commit);
    for (const bytes of tree.values()) this.blobs.set(sha256(bytes), bytes);
    return commit;
  }

  async start(): Promise<this> {
    const listen = (server: http.Server, host: string) => new Promise<void>((resolve) => server.listen(0, host, resolve));
    this.hub = http.createServer((req, res) => this.answerHub(req, res));
    this.cdn = http.createServer((req, res) => this.answerCdn(req, res));
    for (const server of [this.hub, this.cdn]) {
      server.on('connection', (s) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
    }
    await Promise.all([listen(this.hub, '127.0.0.1'), listen(this.cdn, '127.0.0.2')]);
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([this.hub, this.cdn].map((server) => new Promise((resolve) => server?.close(resolve))));
  }

  private record(req: http.IncomingMessage, host: 'hub' | 'cdn'): HubRequest {
    const url = new URL(req.url ?? '/', 'http://x');
    const record: HubRequest = { host, method: req.method ?? '', path: url.pathname, range: req.headers.range, status: 0, bytes: 0, authorization: req.headers.authorization };
    this.requests.push(record);
    return record;
  }

  private answerHub(req: http.IncomingMessage, res: http.ServerResponse): void {
    const record = this.record(req, 'hub');
    const behaviour = this.hubPlan.shift() ?? 'normal';
    const reply = replier(req, res, record);
    const error = (status: number, code: string | undefined, more: http.OutgoingHttpHeaders = {}) =>
      reply(status, { ...(code ? { 'X-Error-Code': code } : {}), 'Content-Type': 'text/plain', ...more }, Buffer.from(`${status} ${code ?? ''}`));
    if (behaviour === 'error-500') return error(500, undefined);
    const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(record.path);
    const repo = match && this.repos.get(match[1]);
    if (!match || !repo) return error(401, 'RepoNotFound');
    // Gated: no token is a 401, a token without access a 403.
    if (repo.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`) return error(req.headers.authorization ? 403 : 401, 'GatedRepo');
    const revision = decodeURIComponent(match[2]);
    const commit = repo.commits.has(revision) ? revision : repo.refs.get(revision);
    if (!commit) return error(404, 'RevisionNotFound');
    const filename = match[3].split('/').map(decodeURIComponent).join('/');
    const bytes = repo.commits.get(commit)!.get(filename);
    const commitHeader = { 'X-Repo-Commit': behaviour === 'bad-commit' ? '../../../escape' : commit };
    if (behaviour === 'no-commit') delete (commitHeader as Record<string, string>)['X-Repo-Commit'];
    if (!bytes) return error(404, 'EntryNotFound', commitHeader);
    const etag = behaviour === 'path-etag' ? '"../../../../escape"' : undefined;
    if (LFS.test(filename)) {
      const linked = behaviour === 'no-etag' ? {} : { 'X-Linked-Etag': etag ?? `"${sha256(bytes)}"`, ETag: `"${gitBlobSha1(bytes)}"` };
      reply(302, { ...commitHeader, ...linked, 'X-Linked-Size': bytes.length, Location: `${this.cdnBase}/blobs/${sha256(bytes)}?signature=x` });
      return;
    }
    serveBytes(req, res, bytes, 'normal', record, { ...commitHeader, ...(behaviour === 'no-etag' ? {} : { ETag: etag ?? `"${gitBlobSha1(bytes)}"` }) });
  }

  private answerCdn(req: http.IncomingMessage, res: http.ServerResponse): void {
    const record = this.record(req, 'cdn');
    const behaviour = this.cdnPlan.shift() ?? 'normal';
    const blob = this.blobs.get(record.path.replace(/^\/blobs\//, ''));
    if (!blob || behaviour === 'not-found') {
      replier(req, res, record)(404, {}, Buffer.from('no such blob'));
      return;
    }
    const served = behaviour === 'wrong-bytes' ? Buffer.from(blob.map((b, i) => (i === 0 ? b ^ 1 : b))) : blob;
    serveBytes(req, res, served, behaviour === 'wrong-bytes' ? 'normal' : behaviour, record);
  }
}
