// What an exported model says about itself in metadata_props, each value a string (JSON where it
// is structured), so that a runtime can prepare images as training did and name the outputs:
//   arch           the torchvision architecture, e.g. 'resnet50'
//   classes        JSON array of the class names in output order (only when known)
//   preprocessing  JSON { resize, cropMode?, cropPct?, interpolation, centerCrop, mean: [r, g, b], std: [r, g, b] }:
//                  resize as torchvision's Resize(resize) ([h, w] exactly, or a number for the
//                  shorter side, the aspect ratio kept; cropMode and cropPct say how resize was
//                  derived, timm's terms), centre-crop centerCrop x centerCrop, RGB scaled to
//                  [0, 1], (x - mean) / std per channel, NCHW (torchvision's Resize, CenterCrop,
//                  ToTensor, Normalize; finetorch's model card records the same object as `eval`)
import type { EvalRecipe } from '../data/eval-recipe';

export function exportMetadata(arch: string, preprocessing: EvalRecipe, classes: readonly string[] | undefined): Map<string, string> {
  const { resize, cropMode, cropPct, interpolation, centerCrop, mean, std } = preprocessing;
  const metadata = new Map<string, string>([
    ['arch', arch],
    ['preprocessing', JSON.stringify({ resize, cropMode, cropPct, interpolation, centerCrop, mean, std })],
  ]);
  if (classes) metadata.set('classes', JSON.stringify(classes));
  return metadata;
}
