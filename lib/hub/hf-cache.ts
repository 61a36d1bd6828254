// The Hugging Face Hub cache as huggingface_hub 1.33 lays it out (file_download.py), so that Python
// and finetorch each find what the other downloaded:
//
//   <cache>/models--<namespace>--<name>/
//     blobs/<etag>                           the files, named by the Hub's ETag (sha256 or git blob id)
//     snapshots/<commit>/<filename>          relative symlinks to ../../blobs/<etag>
//     refs/<revision>                        the commit a branch or tag pointed to when last asked
//
// Every name that comes from a server (ETag, commit) or a user (repo id, revision, filename) is
// checked before it becomes a path, so that none can lead out of the cache; every entry appears
// whole (written to a temporary name, then renamed).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { tempPathFor, writeFileAtomic } from '../base/atomic';
import { FinetorchError } from '../base/errors';

/** huggingface_hub's REGEX_COMMIT_HASH. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;
/** Blob names: the Hub's ETags are hex hashes; anything path-like is refused. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/** Where one repo's files are: models--<namespace>--<name> in the cache. */
export class RepoCache {
  readonly folder: string;

  constructor(readonly cacheDir: string, readonly repoId: string) {
    this.folder = path.join(cacheDir, ['models', ...repoId.split('/')].join('--'));
  }

  blob(etag: string): string {
    return path.join(this.folder, 'blobs', checkedName(etag, 'ETag'));
  }

  /** Where a cut download of the blob keeps its bytes (older huggingface_hub resumed from the same name). */
  incomplete(etag: string): string {
    return `${this.blob(etag)}.incomplete`;
  }

  pointer(commit: string, filename: string): string {
    if (!COMMIT_HASH.test(commit)) throw hubError(`${this.repoId}: the commit '${commit}' is not a 40-digit hex hash`);
    return path.join(this.folder, 'snapshots', commit, ...filename.split('/'));
  }

  /** The commit that `revision` pointed to when it was last resolved (refs/<revision>), or the revision itself when it is a commit. */
  async commitOf(revision: string): Promise<string | undefined> {
    if (COMMIT_HASH.test(revision)) return revision;
    const text = await fs.readFile(this.#ref(revision), 'utf8').catch(() => undefined);
    return text !== undefined && COMMIT_HASH.test(text.trim()) ? text.trim() : undefined;
  }

  /** The cached file for `revision`, as try_to_load_from_cache finds it; undefined when not cached. */
  async cached(revision: string, filename: string): Promise<string | undefined> {
    const commit = await this.commitOf(revision);
    if (!commit) return undefined;
    const pointer = this.pointer(commit, filename);
    return (await isFile(pointer)) ? pointer : undefined;
  }

  /** Records that `revision` now points to `commit` (nothing to record when the revision is that commit). */
  async setRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const ref = this.#ref(revision);
    if ((await fs.readFile(ref, 'utf8').catch(() => undefined)) === commit) return;
    await fs.mkdir(path.dirname(ref), { recursive: true });
    await writeFileAtomic(ref, commit);
  }

  /** snapshots/<commit>/<filename> -> ../../blobs/<etag>, a relative symlink made under a temporary name and renamed. */
  async link(commit: string, filename: string, etag: string): Promise<string> {
    const pointer = this.pointer(commit, filename);
    await fs.mkdir(path.dirname(pointer), { recursive: true });
    const temp = tempPathFor(pointer);
    await fs.symlink(path.relative(path.dirname(pointer), this.blob(etag)), temp);
    try {
      await fs.rename(temp, pointer);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    return pointer;
  }

  #ref(revision: string): string {
    return path.join(this.folder, 'refs', ...checkedRevision(revision).split('/'));
  }
}

/** A repo id as huggingface_hub's validate_repo_id takes it: 'name' or 'namespace/name'. */
export function checkRepoId(repoId: string): string {
  const part = '[A-Za-z0-9_.-]{1,96}';
  const ok = new RegExp(`^(${part}/)?${part}$`).test(repoId) && !/(^|\/)[-.]|[-.](\/|$)/.test(repoId) &&
    !repoId.includes('--') && !repoId.includes('..') && !repoId.endsWith('.git');
  if (!ok) {
    throw hubError(`'${repoId}' is not a Hub repo id: 'namespace/name' of letters, digits, '-', '_' and '.', ` +
      "neither starting nor ending with '-' or '.', without '--' or '..' (e.g. 'timm/resnet50.a1_in1k')");
  }
  return repoId;
}

/** A branch, tag or commit: path segments without '..' or '.' (refs/pr/1 is one). */
export function checkedRevision(revision: string): string {
  const segments = revision.split('/');
  if (!revision || revision.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw hubError(`'${revision}' is not a revision: a branch, a tag or a commit hash`);
  }
  return revision;
}

function checkedName(name: string, what: string): string {
  if (!SAFE_NAME.test(name)) throw hubError(`the Hub's ${what} '${name.slice(0, 80)}' cannot name a file in the cache`);
  return name;
}

export function hubError(message: string): FinetorchError {
  return new FinetorchError('ERR_FINETORCH_HUB', message);
}

export async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}
