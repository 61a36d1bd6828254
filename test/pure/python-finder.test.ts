// The parity tests' dependency on Python's torch fails loudly, with the way to install it.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { it } from 'node:test';

it('without a Python that has torch, the PyTorch-backed tests fail and say how to install it', async () => {
  const helper = path.resolve(__dirname, '..', 'helpers', 'python.js');
  const run = promisify(execFile)(process.execPath, ['-e', `require(${JSON.stringify(helper)}).runPython('resnet_reference.py', ['make', '/nonexistent', '1'])`], {
    env: { ...process.env, FINETORCH_PYTHON: '/nonexistent/python3' },
  });
  await assert.rejects(run, (err: Error & { stderr: string }) => {
    assert.match(err.stderr, /No Python with torch and torchvision found \(tried FINETORCH_PYTHON=\/nonexistent\/python3\)/);
    assert.match(err.stderr, /apt-get install python3-torch python3-torchvision/);
    return true;
  });
});

it('the ecosystem Python is looked for in the checkout\'s .toolchains/, from scripts/ as from the compiled dist/scripts/', () => {
  const root = path.resolve(__dirname, '..', '..', '..');
  for (const copy of [path.join(root, 'scripts'), path.join(root, 'dist', 'scripts')]) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { TOOLCHAINS } = require(path.join(copy, 'python-with-torch.js')) as { TOOLCHAINS: string };
    assert.equal(TOOLCHAINS, path.join(root, '.toolchains'), copy);
  }
});
