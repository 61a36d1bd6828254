// ImageFolder and links that cannot be followed, as torchvision's ImageFolder treats them (checked
// with torchvision 0.14): inside a class, a loop of links (ELOOP) or a dangling link is listed
// among the files (os.walk's followlinks=True), and loading it fails with an ImageDecodeError
// that onError: 'skip' passes; at the root, a dangling link is no class and a looping one an error.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { DataLoader, DatasetError, ImageFolder, LoaderBatch, centerCrop } from '../../lib/data';
import { write } from '../helpers/data-fixtures';
import { tempDir } from '../helpers/python';

describe('ImageFolder with links that cannot be followed', () => {
  const tmp = tempDir('finetorch-links-');
  after(() => tmp.cleanup());

  async function folder(name: string): Promise<string> {
    const root = path.join(tmp.dir, name);
    for (const file of ['ant/a.png', 'ant/b.png', 'cow/c.png']) {
      await write(root, file, sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } }).png());
    }
    fs.symlinkSync('self.png', path.join(root, 'ant', 'self.png')); // a loop of one link: ELOOP
    fs.symlinkSync('nowhere.png', path.join(root, 'ant', 'dangling.png'));
    fs.symlinkSync(path.join(root, 'ant'), path.join(root, 'ant', 'up')); // a cycle of folders
    fs.symlinkSync('nowhere', path.join(root, 'dangling-class'));
    return root;
  }

  it('lists them as samples, walks each real folder once, and the loader skips them with onError: skip', async () => {
    const root = await folder('inside');
    const data = new ImageFolder(root, { transform: centerCrop(8) });
    assert.deepEqual(data.classes, ['ant', 'cow']);
    assert.deepEqual(data.samples.map(([file, label]) => [path.relative(root, file), label]),
      [['ant/a.png', 0], ['ant/b.png', 0], ['ant/dangling.png', 0], ['ant/self.png', 0], ['cow/c.png', 1]]);
    const loader = new DataLoader(data, { batchSize: 2, onError: 'skip' });
    const onWarning = () => undefined;
    process.on('warning', onWarning);
    const batches: LoaderBatch[] = [];
    try {
      for await (const batch of loader) batches.push(batch);
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(loader.skipped, 2);
    assert.equal(batches.reduce((n, b) => n + b.target.length, 0), 3);
  });

  it('refuses a looping link where a class folder would be, naming it', async () => {
    const root = await folder('root');
    fs.symlinkSync('bee', path.join(root, 'bee'));
    assert.throws(() => new ImageFolder(root), (err: Error) =>
      err instanceof DatasetError && err.code === 'ERR_FINETORCH_DATASET' && err.message.includes(path.join(root, 'bee')) && /ELOOP/.test(err.message));
  });
});
