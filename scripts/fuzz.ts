// npm run fuzz [-- --mutants N --seed S --jobs J --timeout-ms T --memory-mib M --seeds pth|safetensors --replay DIR --save-to DIR --no-save]
// Mutates the real torch.save and safetensors files in test/fuzz-corpus/seeds and feeds the
// mutants to the public loaders of their format in child processes (see fuzz-run.ts); inputs that
// crash, hang, pass the memory bound or give an unclear error are saved in
// test/fuzz-corpus/regressions, which the test suite replays (--save-to DIR: there instead).
// --seeds takes the seeds of one format only; --replay DIR runs the loaders on the .pth and
// .safetensors files of DIR.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FuzzInput, FuzzReport, loadersFor, runFuzz } from './fuzz-run';
import { SEED_EXTENSIONS, readSeeds } from './fuzz-mutate';

const ROOT = path.resolve(__dirname, '..', '..');
export const SEEDS_DIR = path.join(ROOT, 'test', 'fuzz-corpus', 'seeds');
export const REGRESSIONS_DIR = path.join(ROOT, 'test', 'fuzz-corpus', 'regressions');

/** The .pth and .safetensors files of a folder as fixed inputs; names containing "resnet" also go to the model loaders. */
export function corpusInputs(dir: string): FuzzInput[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => SEED_EXTENSIONS.includes(path.extname(f))).sort().map((f) => {
    const ext = path.extname(f);
    return { label: f, bytes: fs.readFileSync(path.join(dir, f)), ext, loaders: loadersFor(ext, f.includes('resnet')) };
  });
}

export function formatReport(report: FuzzReport): string {
  const lines = [
    `inputs: ${report.inputs} in ${(report.elapsedMs / 1000).toFixed(0)} s (${report.childStarts} child starts)`,
    `by input: ${Object.entries(report.byInput).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    ...Object.entries(report.byLoader).map(([loader, counts]) => {
      const peak = report.maxPeakGrowth[loader];
      const memory = peak ? `; peak RSS growth of one call at most ${(peak.bytes / 2 ** 20).toFixed(1)} MiB (${peak.label.slice(0, 80)})` : '';
      return `  ${loader}: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}${memory}`;
    }),
    `distinct clear errors: ${report.distinctErrors}`,
    `findings: ${report.findings.length}`,
    ...report.findings.slice(0, 40).map((f) => `  ${f.kind} ${f.loader ?? ''} ${f.saved ? `[${f.saved}] ` : ''}${f.label}\n    ${(f.message ?? '').slice(0, 300)}`),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mutants: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '1' },
      jobs: { type: 'string', default: '1' },
      'timeout-ms': { type: 'string', default: '30000' },
      'memory-mib': { type: 'string', default: '512' },
      seeds: { type: 'string' },
      replay: { type: 'string' },
      'save-to': { type: 'string', default: REGRESSIONS_DIR },
      'no-save': { type: 'boolean', default: false },
    },
  });
  const number = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`--${name} must be a non-negative integer, got ${values[name]}`);
    return n;
  };
  const formats = { pth: ['zip', 'legacy'], safetensors: ['safetensors'] } as Record<string, string[] | undefined>;
  if (values.seeds !== undefined && !formats[values.seeds]) throw new RangeError(`--seeds must be pth or safetensors, got ${values.seeds}`);
  const seeds = readSeeds(SEEDS_DIR).filter((s) => !values.seeds || formats[values.seeds]!.includes(s.format));
  const inputs = values.replay ? corpusInputs(values.replay) : { seeds, count: number('mutants'), seed: number('seed') };
  let lastPrint = Date.now();
  const report = await runFuzz({
    inputs,
    jobs: number('jobs'),
    timeoutMs: number('timeout-ms'),
    memoryBoundBytes: number('memory-mib') * 2 ** 20,
    corpusDir: values['no-save'] || values.replay ? undefined : values['save-to'],
    onProgress: (done, partial) => {
      if (Date.now() - lastPrint < 30_000) return;
      lastPrint = Date.now();
      console.log(`${done} inputs: ${Object.entries(partial.byInput).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    },
  });
  console.log(formatReport(report));
  const bad = report.byInput.unclear + report.byInput.crash + report.byInput.hang + report.byInput.memory;
  process.exitCode = bad ? 1 : 0;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}
