// A short fixed-seed pass of the weights fuzzer (npm run fuzz runs long ones): mutants of real
// torch.save and safetensors files fed to the readers of their format (readPth, loadPth, locatePth;
// loadSafetensors, readSafetensorsHeader, locateSafetensors), net.loadPth and ResNet18.load in a
// child process. None may crash, hang, pass the memory bound or give an unclear error.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEEDS_DIR, formatReport } from '../../scripts/fuzz';
import { readSeeds } from '../../scripts/fuzz-mutate';
import { runFuzz } from '../../scripts/fuzz-run';
import { describeFinding } from '../helpers/fuzz-findings';

const MUTANTS = 800;

describe('fuzzing the weights loaders', () => {
  it(`${MUTANTS} mutants (seed 14): every outcome a load or a clear error`, async (t) => {
    const report = await runFuzz({ inputs: { seeds: readSeeds(SEEDS_DIR), count: MUTANTS, seed: 14 } });
    for (const line of formatReport(report).split('\n')) t.diagnostic(line);
    assert.equal(report.inputs, MUTANTS);
    assert.deepEqual(report.findings.map(describeFinding), []);
    // The mutants reach deep: many still load, and the errors are of many kinds.
    assert.ok(report.byInput.loaded > MUTANTS / 10, `only ${report.byInput.loaded} mutants loaded`);
    assert.ok(report.distinctErrors > 50, `only ${report.distinctErrors} distinct errors`);
    // The safetensors mutants reach past the header's syntax too: some still load.
    assert.ok((report.byLoader.loadSafetensors?.loaded ?? 0) > 10, formatReport(report));
    assert.ok((report.byLoader.loadSafetensors?.clear ?? 0) > 100, formatReport(report));
  });
});
