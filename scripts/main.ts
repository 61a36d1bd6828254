// The README's main job: load a torchvision ResNet-18 .pth made on the spot by PyTorch and show
// what finetorch sees: its fc, key count, and a forward pass's shape and time.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadPth, ResNet18 } from '../lib';
import { requirePythonWithTorch } from './python-with-torch';

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetorch-main-'));
  const file = path.join(dir, 'resnet18.pth');
  try {
    const { python } = requirePythonWithTorch();
    const made = spawnSync(python, ['-c',
      `import torch, torchvision; torch.manual_seed(0); torch.save(torchvision.models.resnet18().state_dict(), ${JSON.stringify(file)})`],
    { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('PyTorch could not write the sample .pth');
    const sd = await loadPth(file);
    const net = await ResNet18.load(file);
    console.log(`${path.basename(file)}: ${sd.size} keys, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB`);
    console.log(`fc: ${net.fc}`);
    const input = { dtype: 'float32' as const, shape: [2, 3, 224, 224], data: new Float32Array(2 * 3 * 224 * 224).fill(0.5) };
    net.eval();
    const start = process.hrtime.bigint();
    const out = await net.forward(input);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(`forward [${input.shape.join(', ')}] -> [${out.shape.join(', ')}] in ${ms.toFixed(0)} ms`);
    net.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
