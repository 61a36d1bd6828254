// What training keeps of itself: the figures of each epoch (the history fineTune returns and
// checkpoints hold), the running sums inside an epoch, and a position in training.

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  validLoss: number | null;
  validAcc: number | null;
  /** Top-5 validation accuracy (top-k of all classes when there are fewer than five). */
  validTop5: number | null;
  /** Training images per second of training time. */
  imagesPerSec: number;
  /** Training and validation time. */
  seconds: number;
  /** The first group's lr at the epoch's first step (the pretrained layers' when fine-tuning). */
  lr: number;
  /** fc's lr at the epoch's first step. */
  fcLr: number;
}

/** An epoch's training steps so far: running sums, and the lrs it started at. */
export interface EpochTotals {
  /** Sum of batch loss x batch size. */
  loss: number;
  correct: number;
  count: number;
  /** Time spent on them. */
  seconds: number;
  /** The first group's and fc's lr at the epoch's first step. */
  lr: number;
  fcLr: number;
}

/** Where training stands: epochs done, and batches done of the next epoch (0 at an epoch's end). */
export interface TrainingPosition {
  epoch: number;
  batch: number;
}
