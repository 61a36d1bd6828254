// net.exportOnnx's contract without Python: every option mistake is a coded error naming the option
// (did-you-mean for unknown keys), found before the weights are copied, and a failed export leaves
// the file that was there.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResNet, VisionTransformer, readOnnxMetadata } from '../../lib';
import type { OnnxExportOptions } from '../../lib';
import { tempDir } from '../helpers/python';

describe('exportOnnx options', () => {
  const tmp = tempDir('finetorch-onnx-export-');
  const file = path.join(tmp.dir, 'model.onnx');
  let net: ResNet;
  before(async () => {
    net = await ResNet.create({ numClasses: 3, seed: 1 });
  });
  after(() => {
    net.dispose();
    tmp.cleanup();
  });

  it('refuses each mistake with a coded error, the file left as it was', async () => {
    fs.writeFileSync(file, 'the previous file');
    const recipe = { resize: [256, 256], interpolation: 'bilinear', centerCrop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const cases: [unknown, string, RegExp][] = [
      [{ fold_batch_norm: false }, 'ERR_FINETORCH_UNKNOWN_OPTION', /unknown option 'fold_batch_norm' \(did you mean 'foldBatchNorm'\?\)/],
      [{ opset: 10 }, 'ERR_FINETORCH_INVALID_ARG', /opset must be an integer >= 11 and <= 26, got 10/],
      [{ opset: 27 }, 'ERR_FINETORCH_INVALID_ARG', /opset must be an integer >= 11 and <= 26, got 27/],
      [{ opset: '17' }, 'ERR_FINETORCH_INVALID_ARG', /opset must be an integer/],
      [{ batchSize: 4 }, 'ERR_FINETORCH_INVALID_ARG', /batchSize 4 fixes the batch, but dynamicBatch is true/],
      [{ dynamicBatch: false, batchSize: 0 }, 'ERR_FINETORCH_INVALID_ARG', /batchSize must be an integer >= 1, got 0/],
      [{ classes: ['a', 'b'] }, 'ERR_FINETORCH_INVALID_ARG', /classes names 2 classes, the model has 3 outputs/],
      [{ inputName: '' }, 'ERR_FINETORCH_INVALID_ARG', /inputName must be a string that is not empty/],
      [{ outputName: 'input' }, 'ERR_FINETORCH_INVALID_ARG', /inputName and outputName are both 'input'/],
      [{ imageSize: 64, preprocessing: recipe }, 'ERR_FINETORCH_INVALID_ARG', /imageSize 64 differs from preprocessing.centerCrop 224/],
      [{ preprocessing: { ...recipe, std: [0.2, 0, 0.2] } }, 'ERR_FINETORCH_INVALID_ARG', /preprocessing: std must be an array of 3 of finite number > 0s, got \[0.2,0,0.2\]/],
      [{ preprocessing: { ...recipe, crop: 224 } }, 'ERR_FINETORCH_UNKNOWN_OPTION', /preprocessing: unknown option 'crop'/],
      [{ preprocessing: { ...recipe, centerCrop: 300 } }, 'ERR_FINETORCH_INVALID_ARG', /preprocessing: centerCrop must be an integer <= 256, got 300/],
      [{ preprocessing: { ...recipe, resize: 200 } }, 'ERR_FINETORCH_INVALID_ARG', /preprocessing: centerCrop must be an integer <= 200, got 224/],
      [{ preprocessing: { ...recipe, resize: [256] } }, 'ERR_FINETORCH_INVALID_ARG', /preprocessing: resize must be an integer >= 1 \(the shorter side\) or \[height, width\]/],
      [{ preprocessing: { ...recipe, interpolation: 'bilnear' } }, 'ERR_FINETORCH_INVALID_ARG', /did you mean 'bilinear'/],
      [{ preprocessing: 'imagenet' }, 'ERR_FINETORCH_INVALID_ARG', /preprocessing must be an object/],
    ];
    for (const [options, code, message] of cases) {
      await assert.rejects(net.exportOnnx(file, options as OnnxExportOptions), (err: Error & { code?: string }) => {
        assert.equal(err.code, code, `${JSON.stringify(options)}: ${err.message}`);
        assert.match(err.message, /^exportOnnx/);
        assert.match(err.message, message);
        return true;
      });
    }
    await assert.rejects(net.exportOnnx(42 as unknown as string), { code: 'ERR_FINETORCH_INVALID_ARG', message: /file must be a string/ });
    assert.equal(fs.readFileSync(file, 'utf8'), 'the previous file');
    assert.deepEqual(fs.readdirSync(tmp.dir), ['model.onnx'], 'no temporary file left');
  });

  it('records torchvision\'s eval recipe at imageSize by default; a disposed model is refused', async () => {
    await net.exportOnnx(file, { imageSize: 32 });
    assert.deepEqual(await readOnnxMetadata(file), {
      arch: 'resnet18',
      preprocessing: JSON.stringify({ resize: [37, 37], cropMode: 'squash', interpolation: 'bilinear', centerCrop: 32, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }),
    });
    // timm's and torchvision's published transforms resize the shorter side: one number.
    const squashed = JSON.parse((await readOnnxMetadata(file)).preprocessing);
    await assert.rejects(net.exportOnnx(file, { preprocessing: { ...squashed, resize: 235, centerCrop: 224 } }),
      { code: 'ERR_FINETORCH_INVALID_ARG', message: /cropMode 'squash' resizes to \[height, width\], not one side \(235\)/ });
    await net.exportOnnx(file, { preprocessing: { ...squashed, resize: 235, cropMode: 'center', centerCrop: 224 } });
    assert.equal(JSON.parse((await readOnnxMetadata(file)).preprocessing).resize, 235);
    const gone = await ResNet.create({ numClasses: 2 });
    gone.dispose();
    await assert.rejects(gone.exportOnnx(file), { code: 'ERR_FINETORCH_DISPOSED' });
  });

  it('a ViT takes its own image size: the default, and any other refused before its weights are copied', async () => {
    const vit = await VisionTransformer.create({ imgSize: 32, patchSize: 16, embedDim: 32, depth: 1, numHeads: 2, numClasses: 2 });
    try {
      await vit.exportOnnx(file);
      assert.equal(JSON.parse((await readOnnxMetadata(file)).preprocessing).centerCrop, 32);
      fs.writeFileSync(file, 'the previous file');
      await assert.rejects(vit.exportOnnx(file, { imageSize: 48 }),
        { code: 'ERR_FINETORCH_INVALID_ARG', message: /^exportOnnx: this VisionTransformer takes 32x32 images only, not 48x48$/ });
      assert.equal(fs.readFileSync(file, 'utf8'), 'the previous file');
    } finally {
      vit.dispose();
    }
  });
});
