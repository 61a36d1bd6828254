// The image file names ImageFolder takes, apart from the module so that the CLI can name them
// without loading the decoders.

/** Extensions ImageFolder picks up (case-insensitively) unless told otherwise: torchvision's IMG_EXTENSIONS. */
export const IMG_EXTENSIONS: readonly string[] = Object.freeze(['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp']);
