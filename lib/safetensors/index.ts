// The safetensors codec: reads and writes the format of huggingface/safetensors. Pure TypeScript.
export { SAFETENSORS_DTYPES, hostDTypeOf } from './dtypes';
export type { SafetensorsDType } from './dtypes';
export { SafetensorsError } from './error';
export { looksLikeSafetensors } from './header';
export { loadSafetensors, locateSafetensors, readSafetensorsHeader } from './read';
export type { SafetensorsHeader, SafetensorsReadOptions } from './read';
export { saveSafetensors } from './write';
export type { SafetensorsTensors, SafetensorsWriteOptions } from './write';
