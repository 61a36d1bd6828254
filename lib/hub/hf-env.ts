// The Hugging Face Hub settings huggingface_hub reads from the environment (huggingface_hub 1.33,
// constants.py), read the same way so that finetorch and Python share one cache and one login.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type HubEnv = Readonly<Record<string, string | undefined>>;

const DEFAULT_ENDPOINT = 'https://huggingface.co';
// huggingface_hub's ENV_VARS_TRUE_VALUES, compared in upper case.
const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);

function expandUser(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** $HF_HOME, by default $XDG_CACHE_HOME/huggingface, XDG_CACHE_HOME being ~/.cache by default. */
export function hfHome(env: HubEnv = process.env): string {
  return expandUser(env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface'));
}

/** The hub cache: $HF_HUB_CACHE, else the legacy $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub. */
export function hfHubCache(env: HubEnv = process.env): string {
  return expandUser(env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? path.join(hfHome(env), 'hub'));
}

/** $HF_ENDPOINT without a trailing slash, else https://huggingface.co. */
export function hfEndpoint(env: HubEnv = process.env): string {
  return (env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

/** HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) set to 1, ON, YES or TRUE: the cache only, no network. */
export function hfOffline(env: HubEnv = process.env): boolean {
  return TRUE_VALUES.has((env.HF_HUB_OFFLINE || env.TRANSFORMERS_OFFLINE || '').toUpperCase());
}

/**
 * The token sent to the Hub: $HF_TOKEN, else the file `hf auth login` writes ($HF_TOKEN_PATH, by
 * default $HF_HOME/token); undefined when there is none.
 */
export function hfToken(env: HubEnv = process.env): string | undefined {
  const fromEnv = env.HF_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  try {
    return fs.readFileSync(expandUser(env.HF_TOKEN_PATH ?? path.join(hfHome(env), 'token')), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
