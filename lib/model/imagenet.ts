// ImageNet-1K's class names in output order, as torchvision ships them with its pretrained weights
// (meta['categories']); lib/model/imagenet-classes.json is written by scripts/imagenet-classes.py.
import categories from './imagenet-classes.json';

/** The names of the 1000 outputs of torchvision's ImageNet-1K models, in order ('tench', 'goldfish', ...). */
export const IMAGENET_CLASSES: readonly string[] = Object.freeze([...categories]);
