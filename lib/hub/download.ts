// torch.hub's download_url_to_file, resumable: the body streams into a temporary file beside the
// destination and is renamed into place only once complete and its hash matches, so a partial
// download never has the final name. A failed download (a cut connection, a server error) keeps
// what arrived as `<dst>.partial` (or where the caller says: the Hugging Face cache's
// `<etag>.incomplete`); the next try claims it (by rename, so two processes never append to one
// file) and asks for the rest with an HTTP Range request.
import { createHash } from 'node:crypto';
import { WriteStream, createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { commitTemp, removeStaleTemps, tempPathFor } from '../base/atomic';
import { bool, checkArg, checkOptions, custom, int, str } from '../base/check';
import { ErrorCode, FinetorchError, nodeError } from '../base/errors';

/** A download that failed; `code` says how (network, HTTP status, cut connection, wrong hash). */
export class DownloadError extends FinetorchError {
  constructor(code: ErrorCode, message: string, readonly url: string, readonly status?: number, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'DownloadError';
  }
}

export interface DownloadOptions {
  /** The SHA-256 of the whole file must start with this (lowercase hex), as torch.hub checks; all 64 digits: must be this. */
  hashPrefix?: string;
  /** The MD5 of the whole file must start with this (lowercase hex): what MAE's README publishes for its checkpoints. */
  md5Prefix?: string;
  /** The file's git blob id must be this (lowercase hex): the Hugging Face Hub's ETag for a file outside LFS. */
  gitBlobSha1?: string;
  /** Request headers; an Authorization header is not sent on once a redirect leaves the URL's host. */
  headers?: Record<string, string>;
  /** Where a cut download keeps its bytes for the next try; default `<dst>.partial`. */
  partialPath?: string;
  /** A progress line on stderr. */
  progress?: boolean;
  /** How many times a cut connection is resumed within this call before giving up. */
  retries?: number;
  /** Milliseconds without any byte from the server before the connection counts as cut. */
  timeout?: number;
}

/** How a transfer may retry and wait; pretrainedWeights takes the same options. */
export const TRANSFER_RULES = { retries: int({ min: 0 }).default(2), timeout: int({ min: 1 }).default(30_000) };

const MAX_REDIRECTS = 10;
const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENETDOWN']);

/** torch.hub's HASH_REGEX: the hex digits after the first '-' that ends at a '.' ('resnet18-f37072fd.pth'). */
export function hashPrefixOf(fileName: string): string | undefined {
  return /-([a-f0-9]*)\./.exec(fileName)?.[1];
}

/** Where an interrupted download of `dst` keeps its bytes. */
export function partialPathFor(dst: string): string {
  return `${dst}.partial`;
}

/**
 * Downloads `url` to `dst` (torch.hub.download_url_to_file): verified against `hashPrefix`,
 * renamed into place when complete, resumed from a kept partial file.
 */
export async function downloadUrlToFile(url: string, dst: string, options: DownloadOptions = {}): Promise<void> {
  const where = 'downloadUrlToFile';
  checkArg(where, 'url', url, str());
  checkArg(where, 'dst', dst, str());
  const hex = str().where('(lowercase hex digits)', (h) => /^[0-9a-f]*$/.test(h)).orUndefined();
  const { hashPrefix, md5Prefix, gitBlobSha1, headers, partialPath, progress, retries, timeout } = checkOptions(where, options, {
    hashPrefix: hex,
    md5Prefix: hex,
    gitBlobSha1: hex,
    headers: custom<Record<string, string>>('an object of strings', (h) => typeof h === 'object' && h !== null && Object.values(h).every((v) => typeof v === 'string')).default({}),
    partialPath: str().orUndefined(),
    progress: bool().default(false),
    ...TRANSFER_RULES,
  });
  await fs.mkdir(path.dirname(dst), { recursive: true });
  await removeStaleTemps(path.dirname(dst), path.basename(dst));
  const temp = tempPathFor(dst);
  const partial = partialPath ?? partialPathFor(dst);
  const resumed = await claim(partial, temp);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fetchInto(url, temp, { headers, progress, timeout, label: path.basename(dst) });
        break;
      } catch (err) {
        if (!(err instanceof DownloadError && err.code === 'ERR_FINETORCH_DOWNLOAD_INTERRUPTED') || attempt >= retries) throw err;
      }
    }
    const mismatch = await hashMismatch(temp, { hashPrefix, md5Prefix, gitBlobSha1 });
    if (mismatch) {
      await fs.rm(temp, { force: true });
      // A kept partial may have come from another version of the file: start over once.
      if (resumed) return downloadUrlToFile(url, dst, options);
      throw new DownloadError('ERR_FINETORCH_HASH_MISMATCH', `invalid hash value for ${url} (${mismatch}); nothing was kept`, url);
    }
    await commitTemp(temp, dst);
  } catch (err) {
    await keepOrRemove(temp, partial);
    throw err;
  }
}

/** Takes over a kept partial download (atomically); whether there was one. */
async function claim(partial: string, temp: string): Promise<boolean> {
  try {
    await fs.rename(partial, temp);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** After a failure the bytes that arrived stay for a resume (a wrong hash has removed them already). */
async function keepOrRemove(temp: string, partial: string): Promise<void> {
  const size = await fs.stat(temp).then((s) => s.size, () => 0);
  if (size > 0) await fs.rename(temp, partial);
  else await fs.rm(temp, { force: true });
}

/** The SHA-256 of a file, hex. */
export function sha256File(file: string): Promise<string> {
  return fileDigest(file, 'sha256');
}

async function fileDigest(file: string, algorithm: 'sha256' | 'md5'): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** The git blob id of a file: the SHA-1 of "blob <size>\0" and its bytes, hex. */
export async function gitBlobSha1File(file: string): Promise<string> {
  const hash = createHash('sha1').update(`blob ${(await fs.stat(file)).size}\0`);
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** How the file's hashes differ from those expected ('expected "…", got "…"'), or undefined when they match. */
export async function hashMismatch(file: string, expected: Pick<DownloadOptions, 'hashPrefix' | 'md5Prefix' | 'gitBlobSha1'>): Promise<string | undefined> {
  const { hashPrefix, md5Prefix, gitBlobSha1 } = expected;
  if (hashPrefix !== undefined) {
    const digest = await sha256File(file);
    if (!digest.startsWith(hashPrefix)) return `expected "${hashPrefix}", got "${digest}"`;
  }
  if (md5Prefix !== undefined) {
    const digest = await fileDigest(file, 'md5');
    if (!digest.startsWith(md5Prefix)) return `expected MD5 "${md5Prefix}", got "${digest}"`;
  }
  if (gitBlobSha1 !== undefined) {
    const id = await gitBlobSha1File(file);
    if (id !== gitBlobSha1) return `expected git blob "${gitBlobSha1}", got "${id}"`;
  }
  return undefined;
}

interface FetchOptions { headers: Record<string, string>; progress: boolean; timeout: number; label: string }

/** Appends the rest of `url` to `file` (all of it when the server ignores the Range request). */
async function fetchInto(url: string, file: string, options: FetchOptions): Promise<void> {
  const offset = await fs.stat(file).then((s) => s.size, () => 0);
  const response = await get(url, { ...options.headers, ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) }, options.timeout);
  let start = 0;
  if (response.statusCode === 206) {
    start = Number(/^bytes (\d+)-/.exec(response.headers['content-range'] ?? '')?.[1] ?? NaN);
    if (start !== offset) {
      response.destroy();
      throw new DownloadError('ERR_FINETORCH_HTTP', `${url}: asked for bytes from ${offset}, the server sent a range from ` +
        `'${response.headers['content-range']}'`, url, 206);
    }
  } else if (response.statusCode === 416 && offset > 0) {
    // The kept bytes are not a prefix of this file (it is shorter): start over.
    response.resume();
    await fs.truncate(file, 0);
    return fetchInto(url, file, options);
  } else if (response.statusCode !== 200) {
    response.resume();
    throw new DownloadError('ERR_FINETORCH_HTTP', `${url}: HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trimEnd(), url, response.statusCode);
  }
  const length = response.headers['content-length'] === undefined ? undefined : Number(response.headers['content-length']);
  const total = length === undefined ? undefined : start + length;
  const bar = options.progress ? progressLine(options.label, start, total) : undefined;
  // The response is heard from at once, before the file opens: a connection cut meanwhile would
  // otherwise close unheard. Chunks are taken as they arrive ('data', not a pipeline): a cut
  // connection destroys the response, and a pipeline would then drop what it had received but not
  // yet written.
  let sink: WriteStream | undefined;
  const early: Buffer[] = [];
  let received = start;
  let diskError: Error | undefined;
  const ended = new Promise<Error | undefined>((resolve) => {
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      bar?.update(received);
      if (!sink) early.push(chunk);
      else if (!sink.write(chunk)) response.pause();
    });
    response.on('error', (err) => resolve(err));
    response.on('close', () => resolve(response.complete ? undefined : nodeError('ECONNRESET', 'the connection closed early')));
  });
  try {
    // From 200 the whole body replaces what was kept; from 206 it continues it.
    sink = (await fs.open(file, start > 0 ? 'a' : 'w')).createWriteStream();
  } catch (err) {
    response.destroy();
    throw err;
  }
  for (const chunk of early.splice(0)) sink.write(chunk);
  sink.on('drain', () => response.resume());
  sink.on('error', (err) => {
    diskError = err;
    response.destroy();
  });
  const cut = await ended;
  bar?.end();
  await new Promise<void>((resolve, reject) => sink!.end((err?: Error | null) => (err || diskError ? reject(diskError ?? err) : resolve())));
  if (cut || (total !== undefined && received < total)) throw interrupted(url, received, total, cut);
}

function interrupted(url: string, received: number, total: number | undefined, cause?: unknown): DownloadError {
  return new DownloadError('ERR_FINETORCH_DOWNLOAD_INTERRUPTED', `${url}: the connection was cut after ${received} of ` +
    `${total ?? 'an unknown number of'} bytes${cause instanceof Error ? ` (${cause.message})` : ''}; the bytes received are kept ` +
    'and the next try resumes from them', url, undefined, { cause });
}

/** A GET that follows redirects; resolves with the final response (headers read, body not). */
async function get(url: string, headers: Record<string, string>, timeout: number, redirects = 0): Promise<http.IncomingMessage> {
  const response = await request('GET', url, headers, timeout);
  const status = response.statusCode ?? 0;
  const location = response.headers.location;
  if (status < 300 || status >= 400 || !location) return response;
  response.resume();
  if (redirects >= MAX_REDIRECTS) throw new DownloadError('ERR_FINETORCH_HTTP', `${url}: more than ${MAX_REDIRECTS} redirects`, url, status);
  const next = new URL(location, url);
  return get(next.href, sameHost(url, next.href) ? headers : withoutAuthorization(headers), timeout, redirects + 1);
}

/** Whether two URLs name the same host (a credential for one is not sent to the other). */
export function sameHost(a: string, b: string): boolean {
  return new URL(a).hostname.toLowerCase() === new URL(b).hostname.toLowerCase();
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

/**
 * @internal One HTTP(S) request, no redirect followed: resolves with the response once its headers are in.
 * Errors are DownloadErrors: ERR_FINETORCH_NETWORK when the server cannot be reached,
 * ERR_FINETORCH_DOWNLOAD_INTERRUPTED when the connection breaks.
 */
export function request(method: 'GET' | 'HEAD', url: string, headers: Record<string, string>, timeout: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw nodeError('ERR_INVALID_PROTOCOL', `unsupported protocol ${target.protocol}`);
    } catch (err) {
      reject(new DownloadError('ERR_FINETORCH_NETWORK', `cannot download '${url}': ${(err as Error).message}`, url, undefined, { cause: err }));
      return;
    }
    const sent = (target.protocol === 'https:' ? https : http).request(target, { method, headers: { 'User-Agent': 'finetorch', ...headers } }, resolve);
    // No byte for `timeout` ms, before or during the body: the socket is closed, which the body's
    // reader sees as a cut connection.
    sent.setTimeout(timeout, () => sent.destroy(nodeError('ETIMEDOUT', `no data for ${timeout} ms`)));
    sent.on('error', (err: NodeJS.ErrnoException) => {
      const code = NETWORK_CODES.has(err.code ?? '') ? 'ERR_FINETORCH_NETWORK' : 'ERR_FINETORCH_DOWNLOAD_INTERRUPTED';
      reject(new DownloadError(code, `cannot download ${url}: ${err.message}`, url, undefined, { cause: err }));
    });
    sent.end();
  });
}

/** "resnet18-f37072fd.pth  12.5/44.7 MiB  28%  6.1 MiB/s", redrawn at most 10 times a second. */
function progressLine(label: string, start: number, total: number | undefined) {
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  const t0 = Date.now();
  let last = 0;
  const draw = (received: number) => {
    const rate = (received - start) / Math.max(1e-3, (Date.now() - t0) / 1000);
    const of = total ? `/${mib(total)} MiB  ${Math.floor((100 * received) / total)}%` : ' MiB';
    process.stderr.write(`\r${label}  ${mib(received)}${of}  ${mib(rate)} MiB/s\x1b[K`);
  };
  let latest = start;
  return {
    update(received: number) {
      latest = received;
      if (Date.now() - last < 100) return;
      last = Date.now();
      draw(received);
    },
    end() {
      draw(latest);
      process.stderr.write('\n');
    },
  };
}
