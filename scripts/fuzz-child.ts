// A fuzzer child process: feeds each input file it is sent to the public weights loaders and reports
// each loader's outcome and peak memory. The parent (fuzz-run.ts) bounds its time and memory and
// restarts it when it dies; one ResNet-18 is created once per child for net.loadPth.
import { ResNet18 } from '../lib/model/resnet';
import { loadPth, locatePth, readPth } from '../lib/pth';
import { loadSafetensors, locateSafetensors, readSafetensorsHeader } from '../lib/safetensors';
import { LoaderName, LoaderOutcome, judgeError } from './fuzz-outcome';
import { peakRssBytes, resetPeakRss } from './fuzz-memory';

export interface ChildRequest {
  id: number;
  file: string;
  loaders: LoaderName[];
}

export interface ChildReply {
  id: number;
  outcomes: LoaderOutcome[];
}

/** Sent before each loader runs, so that a crash or hang is charged to the right one. */
export interface ChildProgress {
  id: number;
  starting: string;
}

let net: ResNet18;

// strict: false reaches the reads of the keys a (partial) ResNet-18 file has.
const LOADERS: Record<LoaderName, (file: string) => Promise<unknown>> = {
  readPth: (file) => readPth(file),
  loadPth: (file) => loadPth(file),
  locatePth: (file) => locatePth(file),
  loadSafetensors: (file) => loadSafetensors(file),
  readSafetensorsHeader: (file) => readSafetensorsHeader(file),
  locateSafetensors: (file) => locateSafetensors(file),
  'net.loadPth': (file) => net.loadPth(file, { strict: false }),
  'ResNet18.load': async (file) => (await ResNet18.load(file, { strict: false })).dispose(),
};

async function run({ id, file, loaders }: ChildRequest): Promise<ChildReply> {
  const outcomes: LoaderOutcome[] = [];
  for (const loader of loaders) {
    const load = LOADERS[loader];
    process.send!({ id, starting: loader } satisfies ChildProgress);
    const tracked = resetPeakRss();
    const before = process.memoryUsage().rss;
    let outcome: LoaderOutcome;
    try {
      await load(file);
      outcome = { loader, kind: 'loaded' };
    } catch (err) {
      outcome = { loader, ...judgeError(err, file) };
    }
    const peak = peakRssBytes();
    if (tracked && peak !== undefined) outcome.peakGrowth = Math.max(0, peak - before);
    outcomes.push(outcome);
  }
  return { id, outcomes };
}

if (require.main === module) {
  // A failure is an unhandled rejection: the child dies, which the harness reports as a crash.
  void ResNet18.create({ numClasses: 2 }).then((created) => {
    net = created;
    process.on('message', (request: ChildRequest) => {
      void run(request).then((reply) => process.send!(reply));
    });
    process.send!('ready');
  });
}
