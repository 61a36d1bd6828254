// README's serving example, run as it stands there: a model (a ResNet, a ViT) exported with class names, served by
// onnxruntime-node and sharp on a one-colour image (every resize keeps it exact, so the input is
// known), prints finetorch's own top-3 probabilities.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, it } from 'node:test';
import sharp from 'sharp';
import { ResNet, VisionTransformer } from '../../lib';
import { evalRecipe } from '../../lib/data/eval-recipe';
import { tempDir } from '../helpers/python';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MARKER = '<!-- onnx-serving-example -->';
const run = promisify(execFile);

/** The first ```js block after the marker. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(MARKER);
  assert.ok(at >= 0, `README.md has ${MARKER}`);
  const match = /```js\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(match, 'a js block follows the marker');
  return match[1];
}

const tmp = tempDir('finetorch-readme-onnx-');
after(() => tmp.cleanup());

const RUNS = [['resnet18', 'square'], ['resnet18', 'shorter side'], ['ViT', 'shorter side']] as const;
for (const [family, resize] of RUNS) it(`README's onnxruntime-node example serves an exported ${family} (${resize} resize): finetorch's top-3 classes and probabilities`, async () => {
  const classes = ['hotdog', 'not-hotdog', 'pizza', 'salad', 'soup'];
  const size = 40;
  const colour = [200, 120, 40];
  const net = family === 'ViT'
    ? await VisionTransformer.create({ imgSize: size, patchSize: 8, embedDim: 32, depth: 1, numHeads: 2, numClasses: classes.length, seed: 8 })
    : await ResNet.create({ numClasses: classes.length, seed: 8 });
  const model = path.join(tmp.dir, `hotdog-${family}-${resize.replace(' ', '-')}.onnx`);
  // A number resizes the shorter side (torchvision's and timm's published transforms).
  await net.exportOnnx(model, { classes, imageSize: size, ...(resize === 'square' ? {} : { preprocessing: evalRecipe(size, { cropMode: 'center' }) }) });

  // The normalised one-colour image the example's preprocessing makes, through finetorch.
  const { mean, std } = evalRecipe(size);
  const plane = size * size;
  const input = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) input.fill((colour[c] / 255 - mean[c]) / std[c], c * plane, (c + 1) * plane);
  const logits = (await net.eval().forward({ dtype: 'float32', shape: [1, 3, size, size], data: input })).data;
  net.dispose();
  const max = Math.max(...logits);
  const exp = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  const expected = exp.map((e, i): [string, number] => [classes[i], e / sum]).sort((a, b) => b[1] - a[1]).slice(0, 3);

  const image = path.join(tmp.dir, 'photo.png');
  await sharp({ create: { width: 61, height: 47, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } } }).png().toFile(image);
  const script = path.join(tmp.dir, 'serve.js');
  fs.writeFileSync(script, readmeExample());
  // require('finetorch') resolves to this checkout; onnxruntime-node and sharp to its node_modules.
  const modules = path.join(tmp.dir, 'modules');
  if (!fs.existsSync(modules)) {
    fs.mkdirSync(modules);
    fs.symlinkSync(ROOT, path.join(modules, 'finetorch'));
  }
  const { stdout } = await run(process.execPath, [script, model, image], {
    env: { ...process.env, NODE_PATH: [modules, path.join(ROOT, 'node_modules')].join(path.delimiter) },
  });
  const printed = stdout.trim().split('\n').map((line) => line.split('\t'));
  assert.deepEqual(printed.map(([name]) => name), expected.map(([name]) => name));
  printed.forEach(([, p], i) => assert.ok(Math.abs(Number(p) - expected[i][1]) <= 1e-4, `${p} against ${expected[i][1]}`));
});
