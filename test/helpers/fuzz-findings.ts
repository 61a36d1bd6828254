// Fuzzer findings as one line each, for assertion messages.
import type { Finding } from '../../scripts/fuzz-run';

export function describeFinding(f: Finding): string {
  return `${f.kind} from ${f.loader} on ${f.label}${f.saved ? ` (saved as ${f.saved})` : ''}: ${f.message ?? ''}`;
}
