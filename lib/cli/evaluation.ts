// finetorch eval, the work: accuracy, per-class accuracy and the confusion matrix of a .pth on a
// folder of class folders, classes matched by name to the model's own (classes.json beside it).
import { DataLoader } from '../data';
import { checkClassCount, classesNextTo } from './classes';
import { ConfusionReport, confusionReport } from './confusion';
import { evalData } from './data';
import type { EvalOptions } from './eval';
import { loadModel } from './model';
import { percent } from './progress';
import { table } from './table';

/** Scores the model and prints the result; resolves to the exit code. */
export async function evaluate({ weights, data: dir, batchSize, imageSize, device, json }: EvalOptions): Promise<number> {
  const folder = evalData(dir, imageSize);
  const net = await loadModel(weights, device);
  const saved = await classesNextTo(weights);
  const classes = saved ?? folder.classes;
  checkClassCount(classes, net.numClasses, saved ? `the classes.json beside ${weights}` : `the class folders of ${folder.root}`);
  const toModelClass = folder.classes.map((name) => {
    const index = classes.indexOf(name);
    if (index < 0) throw new Error(`class folder '${name}' in ${folder.root} is not one of the model's classes (${classes.join(', ')})`);
    return index;
  });
  const identity = toModelClass.every((m, i) => m === i);
  const loader = new DataLoader(folder, { batchSize, reuseBuffers: true });
  const report = await confusionReport(net, loader, classes, identity ? undefined : toModelClass);
  net.dispose();

  const result = { weights, data: folder.root, classesFrom: saved ? 'classes.json' : 'folders', ...report };
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
  return 0;
}

function describe(r: ConfusionReport & { weights: string; data: string }): string {
  return [
    `${r.weights} on ${r.data}: accuracy ${percent(r.accuracy)} (${r.count} images), loss ${r.loss.toFixed(4)}`,
    '',
    table([['class', 'images', 'accuracy'],
      ...r.perClass.map((c) => [c.class, String(c.count), c.accuracy === null ? '-' : percent(c.accuracy)])], [false, true, true]),
    '',
    'confusion matrix (rows: true class, columns: predicted class)',
    table([['', ...r.classes], ...r.matrix.map((row, i) => [r.classes[i], ...row.map(String)])], [false, ...r.classes.map(() => true)]),
    '',
  ].join('\n');
}
