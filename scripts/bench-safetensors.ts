// Reading and writing a 45 MB ResNet-18 .safetensors: finetorch's loadSafetensors (+ loadStateDict),
// net.loadPth (tensors read from the file straight into the model) and saveSafetensors, against
// Python's safetensors (load_file, + load_state_dict, save_file) on the same file, timed in the same
// run (median of RUNS after a warm-up, one compute thread each side). Ratios below 1 mean finetorch
// is faster.
// Usage: node --expose-gc dist/scripts/bench-safetensors.js [RUNS]
import * as path from 'node:path';
import { ResNet18, setNumThreads } from '../lib';
import { loadSafetensors, saveSafetensors } from '../lib/safetensors';
import { runPython, tempDir } from './reference-python';
import { medianMs } from './bench-pth';

interface PythonTimes {
  torch: string;
  safetensors: string;
  file: string;
  ms: { save: number; load: number; into_model: number };
}

export async function runSafetensorsBench(runs = 15): Promise<void> {
  const { dir, cleanup } = tempDir('finetorch-bench-safetensors-');
  setNumThreads(1);
  const net = await ResNet18.create();
  try {
    const python: PythonTimes = JSON.parse(await runPython('safetensors_bench.py', [dir, String(runs)], { ecosystem: true }));
    const state = await loadSafetensors(python.file);
    const out = path.join(dir, 'finetorch.safetensors');
    const ours = {
      load: await medianMs(() => loadSafetensors(python.file), runs),
      intoModel: await medianMs(async () => net.loadStateDict(await loadSafetensors(python.file)), runs),
      direct: await medianMs(() => net.loadPth(python.file), runs),
      save: await medianMs(() => saveSafetensors(out, state), runs),
    };
    const row = (what: string, ms: number, theirs: string, theirMs: number) =>
      ({ finetorch: what, ms: +ms.toFixed(1), python: theirs, 'python ms': +theirMs.toFixed(1), ratio: +(ms / theirMs).toFixed(2) });
    console.log(`.safetensors, 45 MB ResNet-18, median of ${runs} (torch ${python.torch}, safetensors ${python.safetensors}, Node ${process.version})`);
    console.table([
      row('loadSafetensors', ours.load, 'load_file', python.ms.load),
      row('loadStateDict(loadSafetensors)', ours.intoModel, 'load_state_dict(load_file)', python.ms.into_model),
      row('net.loadPth', ours.direct, 'load_state_dict(load_file)', python.ms.into_model),
      row('saveSafetensors', ours.save, 'save_file', python.ms.save),
    ]);
  } finally {
    net.dispose();
    cleanup();
  }
}

if (require.main === module) {
  runSafetensorsBench(Number(process.argv[2] ?? 15)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
