// The lr finder against fastai's algorithm (test/python/lr_find_reference.py transcribes it) on
// synthetic loss curves whose shape is known: the lr schedule, the smoothed losses, where the test
// stops and what each suggestion rule picks (test/native/lr-find.test.ts runs lrFind on a model).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LrFindResult, rangeTest } from '../../lib/train/lr-range-test';
import { closeTo } from '../helpers/compare';
import { runPython, tempDir } from '../helpers/python';

interface Case {
  name: string;
  startLr: number;
  endLr: number;
  numIt: number;
  raw: (number | null)[];
}

/** Deterministic jitter in [-1, 1]. */
const jitter = (i: number) => Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 4.1414) * 0.5;

function curve(name: string, numIt: number, startLr: number, endLr: number, loss: (lr: number, i: number) => number | null): Case {
  const raw = Array.from({ length: numIt }, (_, i) => loss(startLr * (endLr / startLr) ** (i / numIt), i));
  return { name, startLr, endLr, numIt, raw };
}

const CASES: Case[] = [
  // Flat, a fall between 1e-5 and 1e-2, a floor, then divergence from 0.01 on: the textbook shape.
  curve('classic', 100, 1e-7, 10, (lr, i) => {
    const x = Math.log10(lr);
    return 2.3 - 1.9 / (1 + Math.exp(-2.2 * (x + 3.5))) + Math.exp(3 * (x + 1.5)) + 0.03 * jitter(i);
  }),
  // A slow noisy descent that never diverges: all numIt steps.
  curve('descent', 60, 1e-5, 1, (_lr, i) => 1.5 - 0.012 * i + 0.04 * jitter(i)),
  // The classic shape, but the loss turns NaN at step 70 (fastai keeps NaN to the end; finetorch stops).
  curve('nan', 100, 1e-7, 10, (lr, i) => (i >= 70 ? null : 2.3 - 1.9 / (1 + Math.exp(-2.2 * (Math.log10(lr) + 3.5))) + 0.03 * jitter(i))),
  // Two falls of different lengths: the longest valley is the second.
  curve('two-valleys', 80, 1e-6, 1, (lr, i) => {
    const x = Math.log10(lr);
    return 3 - 0.6 / (1 + Math.exp(-8 * (x + 5))) - 1.6 / (1 + Math.exp(-1.5 * (x + 2.5))) + Math.exp(4 * (x + 0.3)) + 0.01 * jitter(i);
  }),
];

describe('lrFind against fastai\'s lr_find', () => {
  const tmp = tempDir();
  let expected: Record<string, { lrs: number[]; losses: (number | null)[]; suggestions: Record<string, { lr: number; point: [number, number] }> }>;
  const ours: Record<string, LrFindResult> = {};
  before(async () => {
    fs.writeFileSync(path.join(tmp.dir, 'cases.json'), JSON.stringify(CASES));
    await runPython('lr_find_reference.py', [path.join(tmp.dir, 'cases.json'), path.join(tmp.dir, 'out.json')]);
    expected = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'out.json'), 'utf8'));
    for (const c of CASES) {
      let i = 0;
      ours[c.name] = await rangeTest(async () => c.raw[i++] ?? NaN, { startLr: c.startLr, endLr: c.endLr, numIt: c.numIt });
    }
  });
  after(() => tmp.cleanup());

  for (const c of CASES) {
    it(`${c.name}: the same lrs, smoothed losses, stopping point and suggestions`, () => {
      const mine = ours[c.name];
      const theirs = expected[c.name];
      const stoppedAtNaN = theirs.losses.findIndex((l) => l === null);
      // fastai runs on through NaN to numIt; finetorch stops at it (the step refused it).
      const length = stoppedAtNaN >= 0 ? stoppedAtNaN + 1 : theirs.lrs.length;
      assert.equal(mine.lrs.length, length, 'steps taken');
      mine.lrs.forEach((lr, i) => closeTo(lr, theirs.lrs[i], 1e-12, `lr ${i}`));
      mine.losses.forEach((l, i) => (theirs.losses[i] === null ? assert.ok(Number.isNaN(l)) : closeTo(l, theirs.losses[i]!, 1e-5, `loss ${i}`)));
      assert.equal(mine.stop, stoppedAtNaN >= 0 ? 'nonFinite' : length < c.numIt ? 'diverged' : 'numIt');
      assert.ok(mine.suggestions, 'suggestions');
      for (const rule of ['valley', 'minimum', 'steep'] as const) {
        // fastai reads the lrs back as float32.
        closeTo(mine.suggestions[rule].lr, theirs.suggestions[rule].lr, 1e-7, `${rule} lr`);
        closeTo(mine.suggestions[rule].point[1], theirs.suggestions[rule].point[1], 1e-5, `${rule} loss`);
      }
    });
  }

  it('the shapes are what they were built to be (so the comparison means something)', () => {
    assert.equal(ours.classic.stop, 'diverged');
    assert.equal(ours.descent.stop, 'numIt');
    const { valley, minimum, steep } = ours.classic.suggestions!;
    // The fall is centred at 10^-3.5: steepest descent and the valley sit on it, below the minimum.
    assert.ok(steep.lr > 1e-5 && steep.lr < 1e-2, `steep ${steep.lr}`);
    assert.ok(valley.lr > 1e-5 && valley.lr < 1e-2, `valley ${valley.lr}`);
    assert.ok(minimum.point[0] > valley.lr, 'the minimum lies past the valley\'s point');
    assert.ok(ours['two-valleys'].suggestions!.valley.lr > 1e-4, 'the longer, second fall');
  });

});

