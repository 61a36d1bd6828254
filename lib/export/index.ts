// Models out of finetorch, for other runtimes: ONNX.
export { exportOnnx } from './export';
export type { GraphOptions, OnnxExportOptions, OnnxSource } from './export';
export { readOnnxMetadata } from './read-metadata';
