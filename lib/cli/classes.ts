// classes.json: the model's class names in output order, kept next to the weights that train
// writes, so that eval and predict can name classes without the training folder.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeJson } from './files';
import { counted } from './progress';

export const CLASSES_FILE = 'classes.json';

export function writeClasses(dir: string, classes: readonly string[]): Promise<void> {
  return writeJson(path.join(dir, CLASSES_FILE), classes);
}

/** The class names saved next to `weights`, or undefined when there is no classes.json there. */
export async function classesNextTo(weights: string): Promise<string[] | undefined> {
  const file = path.join(path.dirname(weights), CLASSES_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let classes: unknown;
  try {
    classes = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) {
    throw new Error(`${file}: expected a non-empty JSON array of class names`);
  }
  return classes;
}

/** Checks that a model with `numClasses` outputs fits the class list that names them. */
export function checkClassCount(classes: readonly string[], numClasses: number, source: string): void {
  if (classes.length !== numClasses) {
    throw new Error(`the model has ${counted(numClasses, 'output')} but ${source} lists ${counted(classes.length, 'class', 'classes')}`);
  }
}
