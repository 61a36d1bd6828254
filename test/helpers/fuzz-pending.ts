// Fuzzer findings whose fix belongs to lib/model.ts (issue 14, the lead's part): the fuzz tests
// report them as TODO, not as failures, until then. Delete an entry once its fix has landed.
import type { Finding } from '../../scripts/fuzz-run';

const PENDING_IN_MODEL: { loader: RegExp; message: RegExp }[] = [
  // ResNet18.load's own check throws a plain Error: no ERR_FINETORCH_PTH code.
  { loader: /^ResNet18\.load$/, message: /no 2-d 'fc\.weight' found, so this is not a ResNet-18 state dict/ },
  // An fc.weight of shape [0, 512] reaches ResNet18.create: a RangeError that names no file.
  { loader: /^ResNet18\.load$/, message: /^numClasses must be a positive integer, got 0$/ },
  // net.loadPth on a compressed archive falls back to loadStateDict(await loadPth(file)), whose
  // native errors (a size mismatch) carry no code and do not name the file.
  { loader: /^net\.loadPth$/, message: /^loadStateDict: Error\(s\) in loading state_dict for ResNet18/ },
];

export function pendingInModel(finding: Finding): boolean {
  return PENDING_IN_MODEL.some((p) => p.loader.test(finding.loader ?? '') && p.message.test(finding.message ?? ''));
}

/** One line per finding, for assertion messages. */
export function describeFinding(f: Finding): string {
  return `${f.kind} from ${f.loader} on ${f.label}${f.saved ? ` (saved as ${f.saved})` : ''}: ${f.message ?? ''}`;
}
