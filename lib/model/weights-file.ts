// A file of weights in either format, told apart by its first bytes rather than its name: a zip
// archive or a pickle (torch.save, .pth/.pt/.bin) or a safetensors header (an 8-byte length that
// fits the file, then '{'). The two codecs know nothing of each other; this is where they meet.
import * as fs from 'node:fs/promises';
import { PthError, StateDict, StoredTensor, loadPth, locatePth } from '../pth';
import { SafetensorsError, loadSafetensors, locateSafetensors, looksLikeSafetensors } from '../safetensors';

export type WeightsFormat = 'pth' | 'safetensors';

// A safetensors header length and its first JSON characters; more than any .pth signature needs.
const SNIFF_BYTES = 64;

/** The format of `file`, by content; 'pth' for anything that is not safetensors (the .pth reader names what it is not). */
export async function weightsFormat(file: string): Promise<WeightsFormat> {
  const handle = await fs.open(file, 'r').catch((err: Error) => {
    throw file.endsWith('.safetensors') ? new SafetensorsError(file, err.message, { cause: err }) : new PthError(file, err.message, { cause: err });
  });
  try {
    const { size } = await handle.stat();
    const first = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    await handle.read(first, 0, first.length, 0);
    return looksLikeSafetensors(first, size) ? 'safetensors' : 'pth';
  } finally {
    await handle.close();
  }
}

/** The state dict in a weights file of either format (for .pth: unwrapped from a checkpoint). */
export async function loadWeights(file: string): Promise<StateDict> {
  return (await weightsFormat(file)) === 'safetensors' ? loadSafetensors(file) : loadPth(file);
}

/**
 * Where each tensor of the file's state dict lies, with the error that a failed read of it becomes;
 * `places` is undefined for a .pth whose records are compressed (then loadWeights reads it).
 */
export async function locateWeights(file: string): Promise<{ places: Map<string, StoredTensor> | undefined; readError: (err: Error) => Error }> {
  if ((await weightsFormat(file)) === 'safetensors') {
    return { places: await locateSafetensors(file), readError: (err) => new SafetensorsError(file, err.message, { cause: err }) };
  }
  return { places: await locatePth(file), readError: (err) => new PthError(file, err.message, { cause: err }) };
}
