// Training: the epoch loop and the recipes on it (fineTune, linearProbe, lrFind), evaluation and its scores, checkpoints.
export { fineTune, linearProbe } from './fine-tune';
export type { FineTuneOptions, LinearProbeOptions } from './fine-tune';
export { TrainingDivergedError } from './loop';
export type { BatchEvent, ValidBatchEvent, LoopOptions } from './loop';
export { evaluate } from './evaluate';
export { ScoreAccumulator } from './metrics';
export type { Scores } from './metrics';
export { lrFind } from './lr-find';
export type { LrFindOptions } from './lr-find';
export { suggestLrs } from './lr-range-test';
export type { LrFindResult, Suggestion, Suggestions } from './lr-range-test';
export { saveCheckpoint, loadCheckpoint, readCheckpointInfo } from './checkpoint';
export type { CheckpointContents, CheckpointInfo, TrainingState } from './checkpoint';
export type { EpochRecord, EpochTotals, TrainingPosition } from './history';
export type { StopSignal } from './stop-signal';
export { writeReconstruction } from './mae-reconstruction';
export type { ReconstructionOptions } from './mae-reconstruction';
