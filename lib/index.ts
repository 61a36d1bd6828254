// The public surface of finetorch: re-exports of each room's public names, nothing else.
export * from './base';
export { loadPth, readPth, savePth, PthError } from './pth';
export type { PthReadOptions, PthSavable, PthValue, StateDict } from './pth';
export { loadSafetensors, readSafetensorsHeader, saveSafetensors, SafetensorsError, SAFETENSORS_DTYPES } from './safetensors';
export type { SafetensorsDType, SafetensorsHeader, SafetensorsTensors, SafetensorsReadOptions, SafetensorsWriteOptions } from './safetensors';
export * from './data';
export * from './model';
export * from './optim';
export * from './train';
export * from './dist';
export * from './hub';
export { readOnnxMetadata } from './export';
export type { OnnxExportOptions } from './export';
