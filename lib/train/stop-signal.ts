// How a caller asks a loop to stop after its current step: an AbortController's signal, or
// anything with a boolean `aborted`.
import { custom } from '../base/check';

/** What a stop request needs to be: an AbortController's signal, or anything with `aborted`. */
export interface StopSignal {
  readonly aborted: boolean;
}

/** @internal A stop signal option: checked at run time, typed so that the typings need no DOM or Node types. */
export const stopSignal = custom<StopSignal>('an AbortSignal (an object with a boolean aborted)',
  (v) => typeof v === 'object' && v !== null && typeof (v as StopSignal).aborted === 'boolean').orUndefined();
