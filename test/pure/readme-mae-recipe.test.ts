// README's example of MAE's data recipe (section "MAE's two protocols"), type-checked as it stands
// there against finetorch's published declarations (dist/lib/index.d.ts), as a user's file
// importing 'finetorch' would be.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, it } from 'node:test';
import * as ts from 'typescript';
import { tempDir } from '../helpers/python';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MARKER = '<!-- mae-recipe-example -->';

const tmp = tempDir('finetorch-readme-mae-recipe-');
after(() => tmp.cleanup());

it("README's MAE data recipe example compiles against finetorch's declarations", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(MARKER);
  assert.ok(at >= 0, `README.md has ${MARKER}`);
  const match = /^```ts\n([\s\S]*?)```/.exec(readme.slice(at + MARKER.length).trimStart());
  assert.ok(match, 'a ts block follows the marker');
  const file = path.join(tmp.dir, 'example.ts');
  fs.writeFileSync(file, match[1]);
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, strict: true,
    esModuleInterop: true, skipLibCheck: true, noEmit: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    baseUrl: ROOT, paths: { finetorch: ['dist/lib/index.d.ts'] },
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(problems, []);
});
