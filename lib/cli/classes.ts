// classes.json: the model's class names in output order, kept next to the weights that train
// writes, so that eval and predict can name classes without the training folder.
import * as path from 'node:path';
import { FinetorchError } from '../base/errors';
import { readJson, writeJson } from './files';
import { counted } from './progress';

export const CLASSES_FILE = 'classes.json';

export function writeClasses(dir: string, classes: readonly string[]): Promise<void> {
  return writeJson(path.join(dir, CLASSES_FILE), classes);
}

/** The class names saved next to `weights`, or undefined when there is no classes.json there. */
export async function classesNextTo(weights: string): Promise<string[] | undefined> {
  const file = path.join(path.dirname(weights), CLASSES_FILE);
  const classes = await readJson(file);
  if (classes === undefined) return undefined;
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) {
    throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `${file}: expected a non-empty JSON array of class names`);
  }
  return classes;
}

/** Checks that a model with `numClasses` outputs fits the class list that names them. */
export function checkClassCount(classes: readonly string[], numClasses: number, source: string): void {
  if (classes.length !== numClasses) {
    throw new FinetorchError('ERR_FINETORCH_STATE_DICT',
      `the model has ${counted(numClasses, 'output')} but ${source} lists ${counted(classes.length, 'class', 'classes')}`);
  }
}
