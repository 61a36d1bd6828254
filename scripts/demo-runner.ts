// What the demos (demo.ts: ResNet-18, demo-vit.ts: a ViT) share around their models: the source
// model trained once and cached in .demo/, a target run (training, a divergence recorded, the
// test), every seed x method, the report (tables, results.json, curves) and the PyTorch side
// (scripts/demo_pytorch.py or demo_vit_pytorch.py) run on the same protocol.json.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluate, Model, savePth, TrainingDivergedError } from '../lib';
import type { BatchSource } from '../lib/data';
import { writeFileAtomic } from '../lib/base/atomic';
import type { Method, Settings } from './demo-protocol';
import { Run, SideResults, comparisonTable, summaryTable, writeCurves } from './demo-report';

export interface Source { file: string; testAcc: number; seconds: number }

/** Accuracy of `net` in eval mode on `test`. */
export async function testAccuracy(net: Model, test: BatchSource): Promise<number> {
  return (await evaluate(test, (b) => net.evalStep(b.input, b.target))).accuracy;
}

/**
 * The source model in .demo/`prefix`-KEY.pth, KEY a hash of `keyParts` (whatever decides the
 * model): trained by `train` (the model, the test images it is scored on and their number) unless an earlier run did.
 */
export async function cachedSource(prefix: string, keyParts: unknown, train: () => Promise<{ net: Model; test: BatchSource; images: number }>): Promise<Source> {
  const key = crypto.createHash('sha1').update(JSON.stringify(keyParts)).digest('hex').slice(0, 10);
  const file = path.join('.demo', `${prefix}-${key}.pth`);
  const infoFile = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(infoFile)) {
    const info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as Source;
    console.log(`source model: ${file} (trained by an earlier run in ${info.seconds.toFixed(0)} s; test accuracy on classes 0-4: ${info.testAcc.toFixed(3)})`);
    return info;
  }
  const start = Date.now();
  const { net, test, images } = await train();
  const info: Source = { file, testAcc: await testAccuracy(net, test), seconds: (Date.now() - start) / 1000 };
  fs.mkdirSync('.demo', { recursive: true });
  await savePth(file, await net.stateDict());
  net.dispose();
  await writeFileAtomic(infoFile, JSON.stringify(info));
  console.log(`source model: ${file}, test accuracy on the ${images} test images of classes 0-4: ${info.testAcc.toFixed(3)} (${info.seconds.toFixed(0)} s)`);
  return info;
}

type OnEpoch = (r: { trainLoss: number; trainAcc: number }) => void;

/** One target run of `net` (disposed after): `train` with the per-epoch curve collected, a divergence recorded, then the test. */
export async function targetRun(method: Method, seed: number, net: Model, train: (onEpoch: OnEpoch) => Promise<unknown>, test: BatchSource): Promise<Run> {
  const start = Date.now();
  const curve: Run['curve'] = [];
  let diverged: string | null = null;
  try {
    await train((r) => { curve.push({ loss: r.trainLoss, acc: r.trainAcc }); });
  } catch (err) {
    if (!(err instanceof TrainingDivergedError)) throw err;
    diverged = err.message;
  }
  const testAcc = diverged ? null : await testAccuracy(net, test);
  net.dispose();
  return { method, seed, testAcc, diverged, seconds: (Date.now() - start) / 1000, curve };
}

/** `run` for every seed and method, in that order, each outcome printed; then what the runs were. */
export async function allRuns<M extends Method>(settings: Settings, tested: number, methods: readonly M[],
  run: (method: M, seed: number) => Promise<Run>): Promise<Run[]> {
  const runs: Run[] = [];
  for (let seed = 0; seed < settings.seeds; seed++) {
    for (const method of methods) {
      const r = await run(method, seed);
      runs.push(r);
      console.log(`  seed ${seed} ${method.padEnd(12)}: ${r.diverged ? `diverged (${r.diverged})` : `test acc ${r.testAcc!.toFixed(3)}`} in ${r.seconds.toFixed(1)} s`);
    }
  }
  console.log(`\ntarget: classes 5-9, ${settings.targetPerClass} training images per class (chosen per seed), ` +
    `tested on ${tested} test images, ${settings.seeds} seeds, ${settings.targetEpochs} epochs`);
  return runs;
}

/**
 * The finetorch side's table, results.json and curves in `out`, its time; then, when `pytorch`
 * names the Python and the script, the PyTorch side on out/protocol.json and both side by side.
 */
export async function report(mine: SideResults, out: string, startedAt: number, pytorch?: { python: string; script: string }): Promise<void> {
  console.log(summaryTable(mine));
  await writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(mine, null, 2));
  const curves = await writeCurves(mine.runs, out);
  // CPU seconds beside wall seconds: on a shared machine the wall clock also measures the neighbours.
  const cpu = process.cpuUsage();
  console.log(`\nprotocol.json, results.json, ${curves.join(', ')} in ${out}/; finetorch side ${((Date.now() - startedAt) / 1000).toFixed(0)} s ` +
    `(${((cpu.user + cpu.system) / 1e6).toFixed(0)} s of CPU)`);
  if (!pytorch) return;
  const protocolFile = path.join(out, 'protocol.json');
  const theirs = await runPyTorch<SideResults>(pytorch.python, pytorch.script, protocolFile, out);
  console.log(`\nboth sides, same protocol (${protocolFile}):\n${comparisonTable(mine, theirs)}`);
}

/** scripts/`script` run by `python` on `protocolFile`; its results (written to out/results-pytorch.json). */
export function runPyTorch<Results>(python: string, script: string, protocolFile: string, out: string): Promise<Results> {
  const file = path.resolve(__dirname, '..', '..', 'scripts', script);
  const resultsFile = path.join(out, 'results-pytorch.json');
  console.log(`\nPyTorch: ${python} ${path.relative(process.cwd(), file)} ${protocolFile}`);
  return new Promise((resolve, reject) => {
    const child = spawn(python, [file, protocolFile, resultsFile], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Results);
      else reject(new Error(`${script} exited with ${code}`));
    });
  });
}
