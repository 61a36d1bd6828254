// Position embeddings for another image size, as MAE's util/pos_embed.py interpolate_pos_embed
// makes them when a checkpoint meets a model of another size.
import { native } from '../base/binding';
import { checkOptions, int } from '../base/check';
import { rangeError } from '../base/errors';
import { HostTensor, checkHostTensor } from '../base/tensor';

/**
 * A learned position embedding [1, numExtraTokens + g*g, D] (float32) resampled to a gridSize x
 * gridSize patch grid: the extra tokens (the class token's) are kept, the grid is resized as a
 * [D, g, g] image, bicubic with align_corners=False, exactly as MAE's interpolate_pos_embed.
 * An embedding whose patch positions form no square grid is an ERR_FINETORCH_BAD_INPUT.
 */
export async function interpolatePosEmbed(posEmbed: HostTensor, options: { numExtraTokens: number; gridSize: number }): Promise<HostTensor<'float32'>> {
  const o = checkOptions('interpolatePosEmbed', options, { numExtraTokens: int({ min: 0 }), gridSize: int({ min: 1 }) });
  checkHostTensor(posEmbed, 'interpolatePosEmbed: posEmbed');
  const [one, tokens, dim] = posEmbed.shape;
  const side = Math.round(Math.sqrt(Math.max(tokens - o.numExtraTokens, 0)));
  const square = posEmbed.shape.length === 3 && one === 1 && dim > 0 && tokens > o.numExtraTokens && side * side === tokens - o.numExtraTokens;
  if (posEmbed.dtype !== 'float32' || !square) {
    throw rangeError('ERR_FINETORCH_BAD_INPUT', `interpolatePosEmbed: posEmbed must be float32 [1, ${o.numExtraTokens} + g*g, D] (a square grid of ` +
      `patch positions after ${o.numExtraTokens} extra tokens), got ${posEmbed.dtype} [${posEmbed.shape.join(', ')}]`);
  }
  return native.interpolatePosEmbed({ posEmbed: posEmbed as HostTensor<'float32'>, ...o });
}
