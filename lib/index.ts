// The public surface of finetorch: re-exports only.
export type { DType, HostTensor, TypedArray } from './tensor';
export { loadPth, readPth, savePth, PthError } from './pth';
export { ResNet18, Parameter, Linear } from './model';
export type { Device, StepResult, Target } from './model';
export { SGD } from './optim';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './optim';
export { cuda, setNumThreads, getNumThreads } from './runtime';
