// Models out of finetorch, for other runtimes: ONNX.
export { exportOnnx } from './export';
export type { GraphOptions, OnnxExportOptions, OnnxSource } from './export';
export { resnetSource } from '../model/resnet-onnx';
export { readOnnxMetadata } from './read-metadata';
