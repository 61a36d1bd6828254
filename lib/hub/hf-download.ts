// One file of a Hub repo into the cache, as huggingface_hub's hf_hub_download puts it there: a
// commit hash already cached is used without the network; otherwise the Hub resolves the revision
// to a commit and names the blob, which is downloaded (resumable, verified against its ETag) and
// linked from the commit's snapshot. Offline, or when the Hub cannot be reached, the cache answers
// alone, through refs/<revision>.
import * as path from 'node:path';
import { DownloadError, downloadUrlToFile, sameHost } from './download';
import { RepoCache, COMMIT_HASH, checkedRevision, isFile } from './hf-cache';
import { FileMetadata, HubHttpError, fileMetadata } from './hf-metadata';

export interface HubFileRequest {
  repoId: string;
  filename: string;
  revision: string;
  cacheDir: string;
  endpoint: string;
  /** Sent as Authorization: Bearer to the Hub (never to the CDN it redirects to). */
  token: string | undefined;
  offline: boolean;
  progress: boolean;
  retries: number;
  timeout: number;
}

export interface HubFile {
  /** snapshots/<commit>/<filename>. */
  file: string;
  commit: string;
  /** Whether this call downloaded the blob. */
  downloaded: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The cached file for the request, downloading it first when the cache lacks it. */
export async function hubFile(r: HubFileRequest): Promise<HubFile> {
  const cache = new RepoCache(r.cacheDir, r.repoId);
  checkedRevision(r.revision);
  const where = `${r.repoId}/${r.filename} at revision '${r.revision}'`;
  if (COMMIT_HASH.test(r.revision)) {
    const cached = await cache.cached(r.revision, r.filename);
    if (cached) return { file: cached, commit: r.revision, downloaded: false };
  }
  if (r.offline) return fromCache(cache, r, where, 'HF_HUB_OFFLINE is set (or offline: true), so the Hub was not asked');
  const url = `${r.endpoint}/${r.repoId}/resolve/${encodeURIComponent(r.revision)}/${r.filename.split('/').map(encodeURIComponent).join('/')}`;
  const headers: Record<string, string> = r.token ? { Authorization: `Bearer ${r.token}` } : {};
  let meta: FileMetadata;
  try {
    meta = await fileMetadata(url, r, headers, r.timeout);
  } catch (err) {
    // As huggingface_hub: a revision or file the Hub says does not exist is an error; any other
    // failure (no network, the Hub down, a token refused) leaves the cache to answer if it can.
    if (err instanceof HubHttpError && (err.hubCode === 'RevisionNotFound' || err.hubCode === 'EntryNotFound')) throw err;
    const unreachable = err instanceof DownloadError && err.code !== 'ERR_FINETORCH_HTTP';
    if (!unreachable) return (await cachedFile(cache, r)) ?? Promise.reject(err);
    return fromCache(cache, r, where, `the Hub could not be reached (${(err as Error).message})`, err);
  }
  const pointer = cache.pointer(meta.commit, r.filename);
  const blob = cache.blob(meta.etag);
  let downloaded = false;
  if (!(await isFile(pointer))) {
    if (!(await isFile(blob))) {
      if (r.progress) process.stderr.write(`Downloading ${where} (commit ${meta.commit.slice(0, 8)})\n`);
      await downloadUrlToFile(meta.location, blob, {
        // The CDN gets no token; the Hub's own host (a relative redirect) does.
        headers: sameHost(meta.location, url) ? headers : {},
        partialPath: cache.incomplete(meta.etag),
        hashPrefix: SHA256.test(meta.etag) ? meta.etag : undefined,
        gitBlobSha1: COMMIT_HASH.test(meta.etag) ? meta.etag : undefined,
        progress: r.progress, retries: r.retries, timeout: r.timeout,
      });
      downloaded = true;
    }
    await cache.link(meta.commit, r.filename, meta.etag);
  }
  // As huggingface_hub: a cache that was complete may be read-only; the ref is then left as it was.
  await cache.setRef(r.revision, meta.commit).catch((err) => {
    if (downloaded) throw err;
  });
  return { file: pointer, commit: meta.commit, downloaded };
}

async function cachedFile(cache: RepoCache, r: HubFileRequest): Promise<HubFile | undefined> {
  const file = await cache.cached(r.revision, r.filename);
  const commit = await cache.commitOf(r.revision);
  return file && commit ? { file, commit, downloaded: false } : undefined;
}

async function fromCache(cache: RepoCache, r: HubFileRequest, where: string, why: string, cause?: unknown): Promise<HubFile> {
  const found = await cachedFile(cache, r);
  if (found) return found;
  throw new DownloadError('ERR_FINETORCH_NETWORK', `${where} is not in the cache ${path.join(cache.folder)}, and ${why}`,
    `${r.endpoint}/${r.repoId}`, undefined, { cause });
}
