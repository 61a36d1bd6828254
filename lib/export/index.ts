// Models out of finetorch, for other runtimes: ONNX.
export { exportResNetOnnx } from './export';
export type { OnnxExportOptions, ResNetExportSource } from './export';
export { readOnnxMetadata } from './read-metadata';
