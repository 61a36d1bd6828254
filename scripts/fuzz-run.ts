// The weights fuzzer's driver: makes mutants of the seeds (or replays given inputs), feeds them to
// child processes (fuzz-child.ts) with a time limit per input and a memory bound, restarts a child
// that dies, classifies every outcome, and saves the inputs that crash, hang, take too much memory
// or give an unclear error into a regression corpus.
import { ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mixSeed, mulberry32 } from '../lib/data/random';
import type { ChildProgress, ChildReply, ChildRequest } from './fuzz-child';
import { Seed, mutate } from './fuzz-mutate';
import {
  LoaderName, LoaderOutcome, MODEL_LOADERS, OUTCOME_KINDS, OutcomeKind, PTH_LOADERS, SAFETENSORS_LOADERS, worse,
} from './fuzz-outcome';

export interface FuzzInput {
  /** Where it came from: "<seed> #<index>: <mutations>", or a corpus file name. */
  label: string;
  bytes: Buffer;
  /** The extension a saved finding gets (.pth or .safetensors): which readers a replay feeds it to. */
  ext: string;
  loaders: LoaderName[];
}

/** The readers of the file's format; the model loaders too for files with ResNet-18 keys. */
export function loadersFor(ext: string, resnet: boolean): LoaderName[] {
  const readers = ext === '.safetensors' ? SAFETENSORS_LOADERS : PTH_LOADERS;
  return resnet ? [...readers, ...MODEL_LOADERS] : [...readers];
}

// ResNet18.load builds a model per call (most of a mutant's time): mutants of ResNet-18 seeds go
// to it one time in this many (to net.loadPth every time; both read the file the same way).
const MODEL_BUILD_EVERY = 32;

export interface FuzzOptions {
  /** The inputs: mutants of seeds (`count` of them, from `seed`), or a fixed list (replay). */
  inputs: { seeds: readonly Seed[]; count: number; seed: number } | readonly FuzzInput[];
  /** Child processes at once. */
  jobs?: number;
  /** Per input (all its loaders); past it the child is killed: a hang. */
  timeoutMs?: number;
  /** Peak RSS growth allowed per loader call; a child past this much over its idle RSS is killed. */
  memoryBoundBytes?: number;
  /** Saves the inputs of findings here (<kind>-<sha256>.pth or .safetensors, and .json), a few per distinct finding. */
  corpusDir?: string;
  onProgress?: (done: number, report: FuzzReport) => void;
}

export interface Finding {
  kind: OutcomeKind;
  label: string;
  loader?: string;
  message?: string;
  saved?: string;
}

export interface FuzzReport {
  inputs: number;
  /** Inputs by their worst outcome. */
  byInput: Record<OutcomeKind, number>;
  /** Loader calls by outcome, per loader. */
  byLoader: Record<string, Partial<Record<OutcomeKind, number>>>;
  /** The largest peak RSS growth of one loader call, and the input that caused it, per loader. */
  maxPeakGrowth: Record<string, { bytes: number; label: string }>;
  /** Distinct clear error messages (numbers and paths blanked), a measure of how deep mutants reach. */
  distinctErrors: number;
  childStarts: number;
  findings: Finding[];
  elapsedMs: number;
}

const CHILD = path.join(__dirname, 'fuzz-child.js');
const SAVED_PER_SIGNATURE = 3;

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { jobs = 1, timeoutMs = 30_000, memoryBoundBytes = 512 * 2 ** 20, corpusDir } = options;
  const total = Array.isArray(options.inputs) ? options.inputs.length : (options.inputs as { count: number }).count;
  const inputAt = (i: number): FuzzInput => {
    if (Array.isArray(options.inputs)) return options.inputs[i];
    const { seeds, seed } = options.inputs as { seeds: readonly Seed[]; seed: number };
    const rng = mulberry32(mixSeed(seed, i));
    const from = seeds[i % seeds.length];
    const { bytes, how } = mutate(from, seeds, rng);
    const ext = path.extname(from.name);
    const loaders = loadersFor(ext, from.resnet).filter((l) => l !== 'ResNet18.load' || Math.floor(i / seeds.length) % MODEL_BUILD_EVERY === 0);
    return { label: `${from.name} #${i}: ${how.join('; ')}`, bytes, ext, loaders };
  };
  const report: FuzzReport = {
    inputs: 0,
    byInput: Object.fromEntries(OUTCOME_KINDS.map((k) => [k, 0])) as Record<OutcomeKind, number>,
    byLoader: {},
    maxPeakGrowth: {},
    distinctErrors: 0,
    childStarts: 0,
    findings: [],
    elapsedMs: 0,
  };
  const started = Date.now();
  const signatures = new Map<string, number>();
  const errorTexts = new Set<string>();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'finetorch-fuzz-'));
  let next = 0;

  /** Messages name the input's temporary file as <input>, so that findings compare across runs. */
  const record = (input: FuzzInput, file: string, outcomes: LoaderOutcome[]) => {
    let worst: OutcomeKind = 'loaded';
    for (const o of outcomes) {
      o.message = o.message?.replaceAll(file, '<input>');
      worst = worse(worst, o.kind);
      const counts = (report.byLoader[o.loader] ??= {});
      counts[o.kind] = (counts[o.kind] ?? 0) + 1;
      if (o.kind === 'clear' && o.message) errorTexts.add(o.message.replace(/\d+/g, '#'));
      if (o.peakGrowth !== undefined && o.peakGrowth > (report.maxPeakGrowth[o.loader]?.bytes ?? -1)) {
        report.maxPeakGrowth[o.loader] = { bytes: o.peakGrowth, label: input.label };
      }
      if (o.kind !== 'loaded' && o.kind !== 'clear') report.findings.push(finding(input, o));
    }
    report.inputs++;
    report.byInput[worst]++;
    report.distinctErrors = errorTexts.size;
    options.onProgress?.(report.inputs, report);
  };

  const finding = (input: FuzzInput, o: LoaderOutcome): Finding => {
    const found: Finding = { kind: o.kind, label: input.label, loader: o.loader, message: o.message };
    const signature = `${o.kind} ${o.loader} ${(o.message ?? '').replace(/\d+/g, '#')}`;
    const seen = signatures.get(signature) ?? 0;
    signatures.set(signature, seen + 1);
    if (corpusDir && seen < SAVED_PER_SIGNATURE) {
      const resnet = input.loaders.some((l) => (MODEL_LOADERS as readonly string[]).includes(l));
      const name = `${o.kind}-${createHash('sha256').update(input.bytes).digest('hex').slice(0, 16)}${resnet ? '-resnet' : ''}`;
      fs.mkdirSync(corpusDir, { recursive: true });
      fs.writeFileSync(path.join(corpusDir, `${name}${input.ext}`), input.bytes);
      fs.writeFileSync(path.join(corpusDir, `${name}.json`), `${JSON.stringify({ ...found, why: o.why }, null, 2)}\n`);
      found.saved = name;
    }
    return found;
  };

  /** One child's loop: take inputs until none are left; a dead or stuck child is replaced. */
  const worker = async (slot: number) => {
    const file = path.join(work, `input-${slot}.pth`);
    let child: Child | undefined;
    try {
      while (next < total) {
        const index = next++;
        const input = inputAt(index);
        fs.writeFileSync(file, input.bytes);
        child ??= await Child.start(memoryBoundBytes, () => report.childStarts++);
        const result = await child.send({ id: index, file, loaders: input.loaders }, timeoutMs);
        if ('outcomes' in result) {
          record(input, file, result.outcomes);
        } else {
          record(input, file, [{ loader: result.loader, kind: result.kind, message: result.message }]);
          child = undefined;
        }
      }
    } finally {
      child?.stop();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, total) }, (_, slot) => worker(slot)));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  report.elapsedMs = Date.now() - started;
  return report;
}

type SendResult = ChildReply | { kind: 'crash' | 'hang' | 'memory'; loader: string; message: string };

/** One child process, watched: its RSS is polled while an input runs. */
class Child {
  private stderr = '';

  private constructor(private readonly process: ChildProcess, private readonly idleRss: number, private readonly memoryBound: number) {
    process.stderr!.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
  }

  static async start(memoryBound: number, counted: () => void): Promise<Child> {
    counted();
    const child = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code, signal) => reject(new Error(`fuzz child exited (${signal ?? code}) before it was ready`)));
    });
    return new Child(child, rssOf(child.pid!) ?? 0, memoryBound);
  }

  /** The child's reply, or what became of it: killed past the time limit or the memory bound, or dead. */
  send(request: ChildRequest, timeoutMs: number): Promise<SendResult> {
    const child = this.process;
    return new Promise((resolve) => {
      let loader = 'child';
      let verdict: { kind: 'hang' | 'memory'; message: string } | undefined;
      const kill = (kind: 'hang' | 'memory', message: string) => {
        verdict ??= { kind, message };
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => kill('hang', `no answer within ${timeoutMs} ms`), timeoutMs);
      const poll = setInterval(() => {
        const rss = rssOf(child.pid!);
        // Killed at twice the bound: a call may peak near the bound and still be judged by its own report.
        if (rss !== undefined && rss - this.idleRss > 2 * this.memoryBound) kill('memory', `RSS reached ${mib(rss)} MiB (idle: ${mib(this.idleRss)} MiB)`);
      }, 25);
      const done = (result: SendResult) => {
        clearTimeout(timer);
        clearInterval(poll);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(result);
      };
      const onMessage = (reply: ChildReply | ChildProgress) => {
        if ('starting' in reply) {
          loader = reply.starting;
          return;
        }
        for (const o of reply.outcomes) {
          if (o.peakGrowth !== undefined && o.peakGrowth > this.memoryBound) {
            Object.assign(o, { kind: 'memory', why: `peak RSS grew by ${mib(o.peakGrowth)} MiB` });
          }
        }
        done(reply);
      };
      const onExit = (code: number | null, signal: string | null) => {
        done({ loader, ...(verdict ?? { kind: 'crash', message: `child died (${signal ?? `exit ${code}`}): ${this.stderr.trim().slice(-1000)}` }) });
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(request);
    });
  }

  stop(): void {
    this.process.kill('SIGKILL');
  }
}

function rssOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
