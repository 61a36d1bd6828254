// finetorch's version, from its package.json: what --version prints and what exported files name
// as their producer.
import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

/** The package's version (dist/lib/base/version.js is three folders below package.json). */
export function packageVersion(): string {
  cached ??= (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
