// What the npm package ships: typings that compile without @types/node and without internals,
// and no benchmark or test sources.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { it } from 'node:test';
import { tempDir } from '../helpers/python';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const run = promisify(execFile);

it('the shipped typings compile in a project without @types/node, internals stripped', async () => {
  const tmp = tempDir();
  try {
    fs.writeFileSync(path.join(tmp.dir, 'index.ts'), `
import { ResNet, SGD, DataLoader, ImageFolder, trainTransform, fineTune, FinetorchError } from 'finetorch';
export async function main(): Promise<void> {
  const net = await ResNet.load('x.pth', { arch: 'resnet50' });
  const opt = new SGD(net.parameters({ exclude: ['fc'] }), { lr: 0.01, weightDecay: 1e-3 });
  const train = new DataLoader(new ImageFolder('data', { transform: trainTransform() }), { batchSize: 32 });
  await fineTune(net, { train, epochs: 1, lr: 0.01 });
  void opt; void FinetorchError;
}
`);
    fs.writeFileSync(path.join(tmp.dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'commonjs', moduleResolution: 'node', lib: ['ES2022'], strict: true, noEmit: true,
        types: [], skipLibCheck: false, baseUrl: '.', paths: { finetorch: [path.join(ROOT, 'dist', 'lib', 'index.d.ts')] },
      },
      files: ['index.ts'],
    }));
    await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tmp.dir]);
  } finally {
    tmp.cleanup();
  }
  const model = fs.readFileSync(path.join(ROOT, 'dist', 'lib', 'model', 'resnet.d.ts'), 'utf8');
  assert.doesNotMatch(model, /readonly handle|readonly queue|NativeModel/, 'the native handle and the queue are @internal');
});

it('the package ships the library, the native sources and the build script, not benchmarks or tests', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  for (const needed of ['LICENSE', 'README.md', 'CMakeLists.txt', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/model/imagenet-classes.json',
    'scripts/build.js', 'native/core/steps.cc']) {
    assert.ok(files.includes(needed), `${needed} is shipped`);
  }
  // Matched as file or folder names: lr-range-test.ts is library code.
  assert.deepEqual(files.filter((f) => /(^|\/)(bench|demo|tests?|fuzz-corpus)([-./]|$)|\.test\./.test(f)), []);
});
