// torchvision's ImageFolder: root/<class>/**/<image>, classes sorted by name -> indices.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError } from './errors';
import { ImageSource } from './image';
import { arrayOf, checkArg, checkOptions, str } from '../base/check';
import { IMAGE_DATASET_OPTIONS, ImageDataset, ImageDatasetOptions } from './dataset';
import { IMG_EXTENSIONS } from './extensions';

export { IMG_EXTENSIONS };

export interface ImageFolderOptions extends ImageDatasetOptions {
  /** File extensions to accept, with or without the dot; default IMG_EXTENSIONS. */
  extensions?: readonly string[];
}

export class ImageFolder extends ImageDataset {
  readonly root: string;
  /** Class names: the subfolder names, sorted. */
  readonly classes: string[];
  readonly classToIdx: Record<string, number>;
  /** [path, class index] per sample, classes in order, paths sorted within each class. */
  readonly samples: [string, number][];
  readonly targets: number[];

  constructor(root: string, options: ImageFolderOptions = {}) {
    const o = checkOptions('ImageFolder', options, { ...IMAGE_DATASET_OPTIONS, extensions: arrayOf(str()).orUndefined() });
    super(o);
    this.root = path.resolve(checkArg('ImageFolder', 'root', root, str()));
    const extensions = new Set((o.extensions ?? IMG_EXTENSIONS).map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
    this.classes = findClasses(this.root);
    this.classToIdx = Object.fromEntries(this.classes.map((c, i) => [c, i]));
    this.samples = [];
    const empty: string[] = [];
    this.classes.forEach((name, index) => {
      const files = listFiles(path.join(this.root, name)).filter((f) => extensions.has(path.extname(f).toLowerCase()));
      if (files.length === 0) empty.push(name);
      for (const file of files) this.samples.push([file, index]);
    });
    if (empty.length > 0) {
      throw new DatasetError(`ImageFolder: no images (${[...extensions].join(', ')}) in the class folder(s) ` +
        `${empty.map((c) => JSON.stringify(c)).join(', ')} under ${this.root}`);
    }
    this.targets = this.samples.map(([, target]) => target);
  }

  get length(): number {
    return this.samples.length;
  }

  target(index: number): number {
    return this.samples[index][1];
  }

  protected source(index: number): ImageSource {
    return this.samples[index][0];
  }
}

/** The visible subfolders of root (symlinks followed), sorted. */
function findClasses(root: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new DatasetError(`ImageFolder: root ${root} does not exist`);
  }
  if (!stat.isDirectory()) throw new DatasetError(`ImageFolder: root ${root} is not a folder`);
  const classes = fs.readdirSync(root).filter((name) => !isHidden(name) && isDirectory(path.join(root, name))).sort();
  if (classes.length === 0) {
    throw new DatasetError(`ImageFolder: no class folders in ${root} (expected one subfolder of images per class)`);
  }
  return classes;
}

/**
 * Files under dir, recursively, following symlinks, sorted by folder then name as torchvision's
 * sorted(os.walk(..., followlinks=True)) does. Hidden entries are skipped. Each real folder is
 * walked once, so a link to an enclosing folder ends the walk where os.walk would go round until
 * the path is too long (listing the same files again on each round). A link that cannot be
 * resolved (dangling, or a loop of links: ELOOP) is listed with the files, as os.walk lists it:
 * loading it fails with an ImageDecodeError, which a DataLoader's onError: 'skip' passes.
 */
function listFiles(dir: string, seen = new Set<string>()): string[] {
  const real = fs.realpathSync(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const files: string[] = [];
  const subdirs: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (isHidden(entry.name)) continue;
    const full = path.join(dir, entry.name);
    // Only symlinks need a stat; for the rest the directory entry says what it is.
    const kind = entry.isSymbolicLink() ? statOrUndefined(full) : entry;
    if (kind?.isDirectory()) subdirs.push(full);
    else if (!kind || kind.isFile()) files.push(full);
  }
  return [...files, ...subdirs.flatMap((sub) => listFiles(sub, seen))];
}

// Dot-folders (.ipynb_checkpoints, .DS_Store) are editor and OS debris, not classes or samples.
function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/**
 * Whether a root entry is a class folder. As torchvision's find_classes (os.scandir's is_dir()): a
 * dangling link is no class; a link that cannot be followed otherwise (a loop: ELOOP) is an error.
 */
function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch (err) {
    throw new DatasetError(`ImageFolder: cannot tell whether ${p} is a class folder: ${(err as Error).message}`, { cause: err });
  }
}

/** What a path (links followed) is; undefined when it cannot be resolved (ENOENT, ELOOP, EACCES...). */
function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}
