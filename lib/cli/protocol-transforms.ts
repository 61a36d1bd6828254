// The data recipe of train's --protocol: the d2l chapter's (--scale, --ratio, --hflip; the resize
// rule of --crop-mode and --crop-pct) or MAE's (util/datasets.py, main_linprobe.py: see
// data/mae-transforms.ts), which takes --scale, --ratio, --hflip (their defaults are MAE's) and
// where --crop-mode and --crop-pct, when given, win over MAE's resize.
import { ResizeRule, Transform, maeEvalRule, maeTrainTransform } from '../data';
import type { TrainSettings } from './settings';

export interface ProtocolData {
  /** The eval resize of validation and of the model card. */
  resizeRule: ResizeRule;
  /** MAE's train transform; undefined: the d2l recipe's. */
  trainTransform?: Transform;
}

/** `reports`: this process reports the run (rank 0, or no job): it alone warns of what MAE's recipe has and finetorch lacks. */
export function protocolData(s: Pick<TrainSettings, 'protocol' | 'imageSize' | 'augmentation' | 'resizeRule' | 'erasing'>, reports: boolean): ProtocolData {
  if (s.protocol === 'd2l') return { resizeRule: s.resizeRule };
  const given = Object.fromEntries(Object.entries(s.resizeRule).filter(([, v]) => v !== undefined));
  const script = s.protocol === 'mae-finetune' ? 'finetune' : 'linprobe';
  const erasing = script === 'finetune' ? s.erasing : {};
  return { resizeRule: { ...maeEvalRule(s.imageSize), ...given }, trainTransform: maeTrainTransform(script, { size: s.imageSize, ...s.augmentation, ...erasing, warn: reports }) };
}
