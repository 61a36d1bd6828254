// What the Hub says about one file before it is downloaded, as huggingface_hub's
// get_hf_file_metadata asks it: a HEAD of <endpoint>/<repo>/resolve/<revision>/<file> that follows
// redirects on the Hub's own host and stops at one to another host (the CDN: the file's metadata is
// on that redirect, and the token must not go there). The answer's X-Repo-Commit resolves the
// revision; X-Linked-Etag (else ETag) names the blob; X-Linked-Size (else Content-Length) sizes it.
import type { IncomingMessage } from 'node:http';
import { DownloadError, request, sameHost } from './download';
import { COMMIT_HASH, hubError } from './hf-cache';

const MAX_REDIRECTS = 10;

export interface FileMetadata {
  commit: string;
  /** Normalized as huggingface_hub does: no W/ prefix, no quotes. */
  etag: string;
  size: number | undefined;
  /** Where to GET the bytes: the CDN's URL when the Hub redirected there. */
  location: string;
}

/** An error status from the Hub, with its X-Error-Code (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound). */
export class HubHttpError extends DownloadError {
  constructor(message: string, url: string, status: number, readonly hubCode: string | undefined) {
    super('ERR_FINETORCH_HTTP', message, url, status);
    this.name = 'HubHttpError';
  }
}

/** The metadata of `url`, a /resolve/ URL of file `filename` in repo `repoId` at `revision`. */
export async function fileMetadata(
  url: string, what: { repoId: string; revision: string; filename: string }, headers: Record<string, string>, timeout: number,
): Promise<FileMetadata> {
  let target = url;
  for (let hops = 0; ; hops++) {
    const response = await request('HEAD', target, { ...headers, 'Accept-Encoding': 'identity' }, timeout);
    response.resume();
    const status = response.statusCode ?? 0;
    if (status >= 400) throw statusError(response, target, what);
    const location = response.headers.location;
    const redirect = status >= 300 && status < 400 && location ? new URL(location, target).href : undefined;
    if (redirect && sameHost(target, redirect)) {
      if (hops >= MAX_REDIRECTS) throw new DownloadError('ERR_FINETORCH_HTTP', `${url}: more than ${MAX_REDIRECTS} redirects`, url, status);
      target = redirect;
      continue;
    }
    return metadataOf(response, redirect ?? target, what);
  }
}

function metadataOf(response: IncomingMessage, location: string, what: { repoId: string; filename: string }): FileMetadata {
  const header = (name: string) => {
    const value = response.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const about = `${what.repoId}/${what.filename}`;
  const commit = header('x-repo-commit');
  if (commit === undefined) {
    throw hubError(`${about}: the answer from ${location} has no X-Repo-Commit header, so it does not come from a Hugging Face Hub ` +
      '(is HF_ENDPOINT right? a proxy in the way?)');
  }
  if (!COMMIT_HASH.test(commit)) throw hubError(`${about}: X-Repo-Commit '${commit.slice(0, 80)}' is not a 40-digit hex commit hash`);
  const rawEtag = header('x-linked-etag') ?? header('etag');
  if (rawEtag === undefined) throw hubError(`${about}: the Hub's answer has no ETag, so the file cannot be checked or cached`);
  const redirected = (response.statusCode ?? 0) >= 300;
  const size = Number(header('x-linked-size') ?? (redirected ? undefined : header('content-length')));
  return { commit, etag: rawEtag.replace(/^[W/]+/, '').replace(/^"+|"+$/g, ''), size: Number.isSafeInteger(size) ? size : undefined, location };
}

function statusError(response: IncomingMessage, url: string, { repoId, revision, filename }: { repoId: string; revision: string; filename: string }): HubHttpError {
  const status = response.statusCode ?? 0;
  const code = [response.headers['x-error-code']].flat()[0];
  const seen = `(HTTP ${status}${code ? ` ${code}` : ''})`;
  const token = 'set HF_TOKEN (or log in with `hf auth login`) to a token that may read it';
  let message: string;
  if (code === 'GatedRepo' || ((status === 401 || status === 403) && code !== 'RepoNotFound')) {
    message = `${repoId} is gated or private ${seen}: accept its conditions on the Hub if it has any, and ${token}`;
  } else if (code === 'RepoNotFound' || status === 401) {
    message = `repository ${repoId} not found ${seen}: check its name; if it is private or gated, ${token}`;
  } else if (code === 'RevisionNotFound') {
    message = `${repoId} has no revision '${revision}' ${seen}`;
  } else if (code === 'EntryNotFound') {
    message = `${repoId} has no file '${filename}' at revision '${revision}' ${seen}`;
  } else {
    message = `${url}: HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd();
  }
  return new HubHttpError(message, url, status, code);
}
