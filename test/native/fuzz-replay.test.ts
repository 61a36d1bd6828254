// Replays the fuzzer's seeds (real torch.save files: every loader loads them) and its regression
// corpus (inputs that once crashed, hung, took too much memory or gave an unclear error: each must
// now load or give a clear error), through the fuzzer's child processes and judgement.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REGRESSIONS_DIR, SEEDS_DIR, corpusInputs, formatReport } from '../../scripts/fuzz';
import { runFuzz } from '../../scripts/fuzz-run';
import { describeFinding } from '../helpers/fuzz-findings';

describe('the fuzzer corpus', () => {
  it('every loader loads every seed, but ResNet18.load the ones with only some ResNet-18 keys and the tensor readers float8 and the like', async () => {
    const seeds = corpusInputs(SEEDS_DIR);
    const pth = seeds.filter((s) => s.ext === '.pth');
    const safetensors = seeds.filter((s) => s.ext === '.safetensors');
    const resnets = seeds.filter((s) => s.label.startsWith('resnet'));
    const complete = resnets.filter((s) => s.label.startsWith('resnet18'));
    assert.ok(pth.length >= 10 && safetensors.length >= 4 && complete.length >= 2);
    const report = await runFuzz({ inputs: seeds });
    const summary = formatReport(report);
    for (const loader of ['readPth', 'loadPth', 'locatePth']) assert.deepEqual(report.byLoader[loader], { loaded: pth.length }, summary);
    assert.deepEqual(report.byLoader.readSafetensorsHeader, { loaded: safetensors.length }, summary);
    // unsupported.safetensors holds F8_E4M3, U16, C64, ...: refused by name, clearly.
    for (const loader of ['loadSafetensors', 'locateSafetensors']) assert.deepEqual(report.byLoader[loader], { loaded: safetensors.length - 1, clear: 1 }, summary);
    assert.deepEqual(report.byLoader['net.loadPth'], { loaded: resnets.length }, summary);
    // It reads the architecture off the keys: a subset of them is refused, clearly.
    assert.deepEqual(report.byLoader['ResNet18.load'], { loaded: complete.length, clear: resnets.length - complete.length }, summary);
  });

  it('every saved regression loads or gives a clear error', async (t) => {
    const inputs = corpusInputs(REGRESSIONS_DIR);
    const report = await runFuzz({ inputs });
    for (const line of formatReport(report).split('\n')) t.diagnostic(line);
    assert.equal(report.inputs, inputs.length);
    assert.deepEqual(report.findings.map(describeFinding), []);
  });
});
