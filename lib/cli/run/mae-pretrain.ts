// finetorch mae-pretrain, the work: MAE's pretraining on a folder of images, with its checkpoint,
// the encoder in MAE's released layout, the history and the reconstruction picture in --out.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DataLoader, ImageFolder, trainTransform } from '../../data';
import { FinetorchError } from '../../base/errors';
import type { HostTensor } from '../../base/tensor';
import { MaskedAutoencoder } from '../../model/mae';
import { savePth } from '../../pth';
import { maePretrain, MaeEpochRecord } from '../../train/mae-pretrain';
import { writeReconstruction } from '../../train/mae-reconstruction';
import { writeJson } from '../files';
import { BadImages, evalData, evalPipeline } from '../image-folders';
import { startCompute } from '../inference-model';
import { Interrupts } from '../interrupt';
import { Progress, clock, counted } from '../progress';
import type { MaePretrainSettings } from '../settings';

/** The files of a run folder. */
const FILES = { checkpoint: 'checkpoint.pth', encoder: 'encoder.pth', history: 'history.json', reconstruction: 'reconstruction.png' };
/** Images in the reconstruction picture. */
const PICTURE_IMAGES = 8;

export async function pretrainMae(s: MaePretrainSettings): Promise<number> {
  startCompute(s);
  const file = (name: keyof typeof FILES) => path.join(s.out, FILES[name]);
  const imageSize = s.model.imgSize!;
  const root = await fs.stat(path.join(s.data, 'train')).then((st) => st.isDirectory(), () => false) ? path.join(s.data, 'train') : s.data;
  // main_pretrain.py's transform_train: RandomResizedCrop(input_size, scale=(0.2, 1.0), interpolation=3 (bicubic)), the flip, ImageNet's normalisation.
  const train = new ImageFolder(root, { transform: trainTransform({ size: imageSize, scale: [0.2, 1], interpolation: 'bicubic' }), shrinkOnLoad: s.shrinkOnLoad });
  const progress = new Progress(process.stderr, s.epochs, s.batchSize, { logEvery: s.logEvery });
  const badImages = new BadImages(s.skipBadImages, (message) => progress.note(message));
  const loader = new DataLoader(train, {
    batchSize: s.batchSize, shuffle: true, seed: s.seed, dropLast: true, reuseBuffers: true, concurrency: s.workers, onError: badImages.onError,
  });
  if (loader.length === 0) throw new FinetorchError('ERR_FINETORCH_DATASET', `${root} holds ${counted(train.length, 'image')}, fewer than one batch of ${s.batchSize} (MAE drops the last partial batch)`);
  await fs.mkdir(s.out, { recursive: true });
  const net = await MaskedAutoencoder.create({ ...s.model, seed: s.seed });
  const controller = new AbortController();
  const interrupts = new Interrupts((signal) => {
    progress.note(`${signal}: stopping after this step, the position saved in ${file('checkpoint')} (send it again to stop now)`);
    controller.abort();
  }, (signal) => progress.note(`${signal}: stopped now; ${file('checkpoint')} holds the last checkpoint`));
  try {
    if (s.device !== 'cpu') await net.to(s.device);
    const picture = await pictureImages(root, imageSize, s.shrinkOnLoad);
    progress.note(`data: ${root}, ${counted(train.length, 'image')}, ${counted(loader.length, 'batch', 'batches')} of ${s.batchSize} an epoch`);
    progress.note(`model: MAE ${JSON.stringify(net.config)}, mask ratio ${s.maskRatio}, on ${s.device}`);
    let history: MaeEpochRecord[] = [];
    const save = async (record?: MaeEpochRecord): Promise<void> => {
      if (record) history.push(record);
      await savePth(file('encoder'), { model: await net.encoderStateDict() });
      await writeJson(file('history'), history);
      await writeReconstruction(net, picture, { file: file('reconstruction'), maskRatio: s.maskRatio, noiseSeed: s.seed });
    };
    await maePretrain(net, {
      train: loader, epochs: s.epochs, blr: s.blr, lr: s.lr, minLr: s.minLr, warmupEpochs: s.warmupEpochs, weightDecay: s.weightDecay,
      maskRatio: s.maskRatio, seed: s.seed, checkpoint: file('checkpoint'), checkpointEvery: s.checkpointEvery,
      resume: s.resume ? file('checkpoint') : undefined, signal: controller.signal,
      onStart: (start) => {
        history = start.history;
        const peak = s.lr ?? s.blr * s.batchSize / 256;
        progress.note(`${start.epoch > 0 || start.batch > 0 ? `resumed at epoch ${start.epoch + 1}, batch ${start.batch + 1}; ` : ''}` +
          `AdamW, peak lr ${peak.toPrecision(3)}, ${s.warmupEpochs} warm-up epochs`);
      },
      onBatch: (e) => progress.maeBatch(e),
      onEpoch: async (record) => {
        progress.note(`epoch ${record.epoch}/${s.epochs}  loss ${record.loss.toFixed(4)}  lr ${Number(record.lr.toPrecision(4))}  ` +
          `${record.imagesPerSec.toFixed(1)} img/s  ${clock(record.seconds)}`);
        await save(record);
      },
    });
    if (history.length === 0) await save();
  } finally {
    interrupts.dispose();
    await net.dispose();
  }
  if (badImages.summary()) progress.note(badImages.summary());
  progress.note(`wrote ${file('encoder')} (MAE's released layout), ${file('checkpoint')}, ${file('history')}, ${file('reconstruction')}`);
  return interrupts.exitCode();
}

/** The first images of the folder, resized and centre-cropped as for evaluation: the picture's rows. */
async function pictureImages(root: string, imageSize: number, shrinkOnLoad: boolean): Promise<HostTensor<'float32'>> {
  const images = evalData(root, evalPipeline(imageSize), shrinkOnLoad);
  const loader = new DataLoader(images, { batchSize: Math.min(PICTURE_IMAGES, images.length) });
  for await (const batch of loader) return batch.input;
  throw new FinetorchError('ERR_FINETORCH_DATASET', `${root} holds no images`);
}
