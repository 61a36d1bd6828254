// finetorch eval, the work: loss, top-1 and top-5 accuracy, per-class accuracy and the confusion
// matrix of a model on a folder of class folders, classes matched by name to the model's own.
import { DataLoader, DatasetError } from '../../data';
import { ScoreReport, scoreModel } from '../score-report';
import { BadImages, evalData } from '../image-folders';
import type { EvalSettings } from '../settings';
import { loadInferenceModel } from '../inference-model';
import { counted, percent } from '../progress';
import { table } from '../table';

/** Scores the model and prints the result; resolves to the exit code. */
export async function evaluate({ weights, data: dir, batchSize, arch, imageSize, resizeRule, shrinkOnLoad, skipBadImages, device, json }: EvalSettings): Promise<number> {
  const model = await loadInferenceModel(weights, { device, arch, imageSize, ...resizeRule }, (m) => process.stderr.write(`${m}\n`));
  const { net } = model;
  try {
    const folder = evalData(dir, model.transform, shrinkOnLoad);
    const classes = model.classes ?? folder.classes;
    if (!model.classes && folder.classes.length !== net.numClasses) {
      throw new DatasetError(`the model has ${counted(net.numClasses, 'output')} but ${folder.root} holds ${counted(folder.classes.length, 'class folder')}`);
    }
    const toModelClass = folder.classes.map((name) => {
      const index = classes.indexOf(name);
      if (index < 0) throw new DatasetError(`class folder '${name}' in ${folder.root} is not one of the model's classes (${classes.join(', ')})`);
      return index;
    });
    const identity = toModelClass.every((m, i) => m === i);
    const badImages = new BadImages(skipBadImages, (message) => process.stderr.write(`${message}\n`));
    const loader = new DataLoader(folder, { batchSize, reuseBuffers: true, onError: badImages.onError });
    const report = await scoreModel(net, loader, classes, identity ? undefined : toModelClass);
    const result = {
      weights, arch: net.arch, data: folder.root, classesFrom: model.classesFrom ?? 'folders', imageSize: model.imageSize, ...report,
      skippedImages: badImages.list(),
    };
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : describe(result, badImages.summary()));
    return 0;
  } finally {
    net.dispose();
  }
}

function describe(r: ScoreReport & { weights: string; arch: string; data: string; imageSize: number }, skipped: string): string {
  return [
    `${r.weights} (${r.arch}) on ${r.data} (${r.imageSize} px): accuracy ${percent(r.accuracy)}` +
      `${r.classes.length > 5 ? `, top-5 ${percent(r.top5)}` : ''} (${r.count} images), loss ${r.loss.toFixed(4)}`,
    ...(skipped ? [skipped] : []),
    '',
    table([['class', 'images', 'accuracy'],
      ...r.perClass.map((c) => [c.class, String(c.count), c.accuracy === null ? '-' : percent(c.accuracy)])], [false, true, true]),
    '',
    'confusion matrix (rows: true class, columns: predicted class)',
    table([['', ...r.classes], ...r.matrix.map((row, i) => [r.classes[i], ...row.map(String)])], [false, ...r.classes.map(() => true)]),
    '',
  ].join('\n');
}
