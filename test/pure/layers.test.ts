// The house stands as lib/rooms.json draws it (scripts/check-layers.js, also run by npm run lint),
// and the check sees what it is there to see: a circle, an import into a room not allowed (a
// type-only one too), a command module that loads native code, a room without its statement.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers/python';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Rules {
  rooms: Record<string, string[]>;
  withoutNative: { modules: string[]; native: string[] };
  scripts?: string[];
}
interface Layers {
  checkLayers(libDir?: string, rules?: Rules): string[];
}
// A plain script of the repository (npm run lint runs it as it is), not compiled with the tests.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkLayers } = require(path.join(ROOT, 'scripts', 'check-layers.js')) as Layers;

const RULES: Rules = {
  rooms: { base: [], data: ['base'], model: ['base', 'data'], cli: ['base', 'data', 'model'] },
  withoutNative: { modules: ['cli/commands/*.ts'], native: ['base/binding.ts', 'sharp'] },
};

describe('the house check', () => {
  const tmp = tempDir('finetorch-layers-');
  after(() => tmp.cleanup());
  let n = 0;

  /** A lib/ of `files` (path -> source) in a fresh folder, every room opening with its statement. */
  function house(files: Record<string, string>): string {
    const dir = path.join(tmp.dir, `lib-${n++}`);
    const all: Record<string, string> = { 'index.ts': '', 'base/binding.ts': 'export const native = 1;\n', ...files };
    for (const room of Object.keys(RULES.rooms)) all[`${room}/index.ts`] ??= `// The ${room} room.\n`;
    for (const [file, text] of Object.entries(all)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    return dir;
  }

  it('passes lib/ as it is', () => {
    assert.deepEqual(checkLayers(), []);
  });

  it('passes a house built to its rules', () => {
    assert.deepEqual(checkLayers(house({
      'data/batch.ts': "import type { Native } from '../base/types';\nexport type Batch = Native;\n",
      'base/types.ts': 'export type Native = number;\n',
      'model/net.ts': "import { native } from '../base/binding';\nimport type { Batch } from '../data/batch';\nexport const net = (b: Batch) => b + native;\n",
      'cli/commands/train.ts': "export const run = () => import('../run/train');\n",
      'cli/run/train.ts': "import { net } from '../../model/net';\nexport const train = net;\n",
    }), RULES), []);
  });

  it('finds a circle between files, type-only imports included', () => {
    const problems = checkLayers(house({
      'model/a.ts': "import { b } from './b';\nexport const a = b;\n",
      'model/b.ts': "import type { C } from './c';\nexport const b = 1 as C;\n",
      'model/c.ts': "import { a } from './a';\nexport type C = typeof a;\n",
    }), RULES);
    assert.deepEqual(problems, ['import circle: model/a.ts -> model/b.ts -> model/c.ts']);
  });

  it('finds an import into a room the importing room may not use, type-only or dynamic', () => {
    const problems = checkLayers(house({
      'data/loader.ts': "import type { Net } from '../model/net';\nexport const load = (n: Net) => n;\n",
      'model/net.ts': 'export type Net = number;\n',
      'base/lazy.ts': "export const later = () => import('../cli/main');\n",
      'cli/main.ts': 'export const main = 1;\n',
    }), RULES);
    assert.deepEqual(problems.sort(), [
      'base/lazy.ts imports cli/main.ts: base/ may not use cli/',
      'data/loader.ts imports model/net.ts (types): data/ may not use model/',
    ]);
  });

  it('finds a command module that loads the addon or sharp through its static imports', () => {
    const problems = checkLayers(house({
      'cli/commands/eval.ts': "import { net } from '../../model/net';\nexport const run = net;\n",
      'cli/commands/plot.ts': "import sharp from 'sharp';\nexport const run = sharp;\n",
      'model/net.ts': "import { native } from '../base/binding';\nexport const net = native;\n",
    }), RULES);
    assert.deepEqual(problems, [
      'cli/commands/eval.ts must run without native code, but loads base/binding.ts: cli/commands/eval.ts -> model/net.ts -> base/binding.ts',
      'cli/commands/plot.ts must run without native code, but loads sharp: cli/commands/plot.ts -> sharp',
    ]);
  });

  it('finds a script that imports from test/', () => {
    const lib = house({});
    const scripts = path.join(path.dirname(lib), 'scripts');
    fs.mkdirSync(scripts, { recursive: true });
    fs.writeFileSync(path.join(scripts, 'bench.ts'), "import { runPython } from '../test/helpers/python';\nimport { native } from '../lib/base/binding';\n");
    try {
      assert.deepEqual(checkLayers(lib, { ...RULES, scripts: ['lib'] }), ["scripts/bench.ts imports ../test/helpers/python: scripts/ may use only scripts, lib/"]);
    } finally {
      fs.rmSync(scripts, { recursive: true });
    }
  });

  it('finds a room that does not state its trade, and a folder that is no room', () => {
    const problems = checkLayers(house({ 'data/index.ts': "export * from './batch';\n", 'data/batch.ts': '', 'misc/x.ts': '' }), RULES);
    assert.deepEqual(problems.sort(), [
      "data/index.ts must open with a one-line comment stating the room's trade",
      "misc/x.ts: its folder 'misc' is no room of lib/rooms.json",
    ]);
  });
});
