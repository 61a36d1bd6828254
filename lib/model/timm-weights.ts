// timm's pretrained weights from the Hugging Face Hub, fetched as timm fetches them
// (timm.create_model('hf-hub:timm/resnet50.a1_in1k', pretrained=True)): config.json first, whose
// architecture is checked before any weight is downloaded, then model.safetensors (pytorch_model.bin
// when the repo has none) at the commit config.json resolved to, so that both come from one
// version of the repo. Both land in the Hub cache that Python shares.
import * as fs from 'node:fs/promises';
import { bool, checkArg, checkOptions, custom, str } from '../base/check';
import { TRANSFER_RULES } from '../hub/download';
import { checkRepoId, checkedRevision, hubError } from '../hub/hf-cache';
import { HubFile, HubFileRequest, hubFile } from '../hub/hf-download';
import { hfEndpoint, hfHubCache, hfOffline, hfToken } from '../hub/hf-env';
import { HubHttpError } from '../hub/hf-metadata';
import { TimmConfig, parseTimmConfig } from './timm-config';
import { HF_HUB_PREFIX } from './timm-ids';

export interface HubDownloadOptions {
  /** A branch, tag or commit hash (default 'main', or what the id names after '@'). */
  revision?: string;
  /** The Hub cache (default $HF_HUB_CACHE, else $HF_HOME/hub, HF_HOME being ~/.cache/huggingface by default). */
  cacheDir?: string;
  /** The Hub's address (default $HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** The access token for gated or private repos (default $HF_TOKEN, else the file `hf auth login` writes); false: none. */
  token?: string | false;
  /** Only the cache, no network (default: $HF_HUB_OFFLINE is 1, ON, YES or TRUE). */
  offline?: boolean;
  /** A download progress line on stderr; default: when stderr is a terminal. */
  progress?: boolean;
  /** How many times a cut connection is resumed within the call (default 2). */
  retries?: number;
  /** Milliseconds without data before the connection counts as cut (default 30000). */
  timeout?: number;
}

export interface HubWeights {
  source: 'hf-hub';
  /** 'hf-hub:timm/resnet50.a1_in1k' (with '@revision' when one was named). */
  id: string;
  repoId: string;
  revision: string;
  /** The commit the revision resolved to. */
  commit: string;
  /** timm's architecture (config.json's): a ResNet's (torchvision's name) or a ViT's (see config.vit). */
  arch: string;
  /** The weights (model.safetensors, or pytorch_model.bin) in the cache's snapshot of the commit. */
  file: string;
  configFile: string;
  /** What config.json says: architecture, classes, and the eval transform timm applies. */
  config: TimmConfig;
  /** Whether this call downloaded anything. */
  downloaded: boolean;
}

const WEIGHTS_FILES = ['model.safetensors', 'pytorch_model.bin'];

/**
 * timm's weights for `id` ('hf-hub:timm/resnet50.a1_in1k', or '…@revision') in the Hub cache,
 * downloaded first when missing. Errors carry a code: ERR_FINETORCH_NETWORK (offline, or the Hub
 * unreachable, and not cached), ERR_FINETORCH_HTTP (gated or private without HF_TOKEN, no such
 * repo, revision or file), ERR_FINETORCH_HUB (not a timm config, an architecture finetorch lacks,
 * an answer that is not the Hub's), ERR_FINETORCH_DOWNLOAD_INTERRUPTED (kept; the next call
 * resumes), ERR_FINETORCH_HASH_MISMATCH.
 */
export async function hubPretrainedWeights(id: string, options: HubDownloadOptions = {}): Promise<HubWeights> {
  const where = 'pretrainedWeights';
  checkArg(where, 'id', id, str());
  const o = checkOptions(where, options, {
    revision: str().orUndefined(),
    cacheDir: str().orUndefined(),
    endpoint: str().where('(an http or https URL)', (u) => /^https?:\/\//.test(u)).orUndefined(),
    token: custom<string | false>('a string or false', (t) => typeof t === 'string' || t === false).orUndefined(),
    offline: bool().default(hfOffline()),
    progress: bool().default(Boolean(process.stderr.isTTY)),
    ...TRANSFER_RULES,
  });
  const { repoId, revision } = parseHubId(id, o.revision);
  const request = (filename: string, at: string): HubFileRequest => ({
    repoId, filename, revision: at,
    cacheDir: o.cacheDir ?? hfHubCache(),
    endpoint: (o.endpoint ?? hfEndpoint()).replace(/\/+$/, ''),
    token: o.token === false ? undefined : o.token ?? hfToken(),
    offline: o.offline, progress: o.progress, retries: o.retries, timeout: o.timeout,
  });
  const configFile = await hubFile(request('config.json', revision));
  const config = parseTimmConfig(await fs.readFile(configFile.file, 'utf8'), `${repoId}/config.json`);
  const weights = await weightsAt(request, configFile.commit);
  return {
    source: 'hf-hub', id, repoId, revision, commit: configFile.commit, arch: config.architecture,
    file: weights.file, configFile: configFile.file, config, downloaded: configFile.downloaded || weights.downloaded,
  };
}

/** model.safetensors at `commit`, else pytorch_model.bin when the Hub (or, offline, the cache) has only that. */
async function weightsAt(request: (filename: string, at: string) => HubFileRequest, commit: string): Promise<HubFile> {
  let first: unknown;
  for (const filename of WEIGHTS_FILES) {
    try {
      return await hubFile(request(filename, commit));
    } catch (err) {
      const absent = err instanceof HubHttpError ? err.hubCode === 'EntryNotFound' : request(filename, commit).offline;
      if (!absent) throw err;
      first ??= err;
    }
  }
  throw first;
}

/** 'hf-hub:namespace/name[@revision]' -> repo id and revision (the option, when given, must agree). */
export function parseHubId(id: string, revision: string | undefined): { repoId: string; revision: string } {
  if (!id.startsWith(HF_HUB_PREFIX)) throw hubError(`'${id}' is not a Hub id: they start with '${HF_HUB_PREFIX}', e.g. 'hf-hub:timm/resnet50.a1_in1k'`);
  const [repo, named, ...more] = id.slice(HF_HUB_PREFIX.length).split('@');
  if (more.length) throw hubError(`'${id}' names more than one revision (one '@' at most, as timm reads it)`);
  if (named !== undefined && revision !== undefined && named !== revision) {
    throw hubError(`'${id}' names revision '${named}' but the revision option says '${revision}'`);
  }
  return { repoId: checkRepoId(repo), revision: checkedRevision(named ?? revision ?? 'main') };
}
