// torch.hub's cache: where it lies ($TORCH_HOME/hub, as torch.hub.get_dir() says), and filing a
// published file into it, checked as torch.hub checks a download (the hash prefix in its name).
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { copyFileAtomic } from '../base/atomic';
import { FinetorchError } from '../base/errors';
import { DownloadError, hashPrefixOf, sha256File } from './download';

/**
 * torch.hub.get_dir(): `$TORCH_HOME/hub`, where TORCH_HOME defaults to `$XDG_CACHE_HOME/torch` and
 * XDG_CACHE_HOME to `~/.cache`.
 */
export function hubDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const expandUser = (p: string) => (p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p);
  return path.join(expandUser(env.TORCH_HOME ?? path.join(env.XDG_CACHE_HOME ?? '~/.cache', 'torch')), 'hub');
}

/**
 * @internal Files a copy of a published file into `modelDir` under its published name, once its
 * SHA-256 starts with the hash prefix that name carries (as torch.hub checks a download); `published`
 * lists the files that may go there.
 */
export async function fileIntoCache<W extends { fileName: string }>(file: string, published: readonly W[], modelDir: string):
  Promise<W & { file: string; downloaded: false }> {
  const digest = await sha256File(file).catch((err: NodeJS.ErrnoException) => {
    throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `cannot read ${file}: ${err.message}`, { cause: err });
  });
  const match = published.find((w) => digest.startsWith(hashPrefixOf(w.fileName) ?? '-'));
  if (!match) {
    throw new DownloadError('ERR_FINETORCH_HASH_MISMATCH', `${file}: its SHA-256 (${digest.slice(0, 8)}...) starts with none of the ` +
      "hash prefixes of torchvision's published weights: only the published file itself can go into the cache (a state dict " +
      'saved again by torch.save is another file)', pathToFileURL(file).href);
  }
  const target = path.join(modelDir, match.fileName);
  await fs.mkdir(modelDir, { recursive: true });
  if (path.resolve(file) !== path.resolve(target)) await copyFileAtomic(file, target);
  return { ...match, file: target, downloaded: false };
}
