// Reading a 45 MB ResNet-18 .pth, alone and into the model: finetorch's loadPth (+ loadStateDict),
// and net.loadPth (tensors read from the file straight into the model), against PyTorch's
// torch.load (+ load_state_dict) on the same files, timed in the same run (median of RUNS loads
// after a warm-up). Ratios below 1 mean finetorch is faster.
// Usage: node --expose-gc dist/scripts/bench-pth.js [RUNS]
// With --expose-gc the previous result is collected before each timed load, outside the timing,
// as CPython frees each torch.load result when it is dropped; without it, V8 may do that work
// (unmapping 45 MB) inside a later timed load.
import * as fs from 'node:fs';
import { ResNet18 } from '../lib';
import { loadPth } from '../lib/pth';
import { runPython, tempDir } from './reference-python';

interface PythonTimes {
  torch: string;
  files: Record<string, string>;
  ms: Record<string, { load: number; weights_only: number; into_model: number }>;
}

export async function medianMs(work: () => Promise<unknown>, runs: number): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export async function runWeightsBench(runs = 15): Promise<void> {
  const { dir, cleanup } = tempDir('finetorch-bench-pth-');
  const net = await ResNet18.create();
  try {
    const python: PythonTimes = JSON.parse(await runPython('pth_bench.py', [dir, String(runs)]));
    const rows = [];
    for (const [format, file] of Object.entries(python.files)) {
      const ms = await medianMs(() => loadPth(file), runs);
      const viaStateDict = await medianMs(async () => net.loadStateDict(await loadPth(file)), runs);
      const direct = await medianMs(() => net.loadPth(file), runs);
      const torch = python.ms[format];
      rows.push({
        format,
        'MB': +(fs.statSync(file).size / 1e6).toFixed(1),
        'loadPth ms': +ms.toFixed(1),
        'torch.load ms': +torch.load.toFixed(1),
        'torch.load(weights_only) ms': +torch.weights_only.toFixed(1),
        'loadPth / torch.load': +(ms / torch.load).toFixed(2),
        'loadPth / weights_only': +(ms / torch.weights_only).toFixed(2),
        'loadStateDict(loadPth) ms': +viaStateDict.toFixed(1),
        'net.loadPth ms': +direct.toFixed(1),
        'torch.load+load_state_dict ms': +torch.into_model.toFixed(1),
        'loadStateDict(loadPth) ratio': +(viaStateDict / torch.into_model).toFixed(2),
        'net.loadPth ratio': +(direct / torch.into_model).toFixed(2),
      });
    }
    const gc = globalThis.gc ? 'GC between runs' : 'no --expose-gc';
    console.log(`.pth read, median of ${runs} (torch ${python.torch}, Node ${process.version}, ${gc})`);
    console.table(rows);
  } finally {
    net.dispose();
    cleanup();
  }
}

if (require.main === module) {
  runWeightsBench(Number(process.argv[2] ?? 15)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
