// The .pth codec: reads both torch.save formats, writes the zip one. Pure TypeScript.
export { PthError } from './error';
export { loadPth, locatePth, pthFormat, readPth, stateDictFrom } from './read';
export type { StoredTensor } from '../base/tensor';
export type { PthFormat, PthInfo, PthReadOptions } from './read';
export type { PthSavable, PthValue, StateDict } from './value';
export { savePth } from './write';
