// finetorch weights, the work: pretrained weights from their three sources: torchvision's ResNets
// and MAE's ViT encoders in torch.hub's cache, timm's ResNets on the Hugging Face Hub in the Hub
// cache: the list, a download into a cache (get), a copy of a published torchvision file filed
// into torch.hub's (import).
import { hfHubCache } from '../../hub/hf-env';
import { hubDir } from '../../hub/torch-hub';
import { maePretrainedWeights } from '../../model/mae-weights';
import { listHubWeights } from '../../model/timm-ids';
import { importWeights, listWeights, pretrainedWeights } from '../../model/torchvision-weights';
import type { WeightsSettings } from '../settings';
import { table } from '../table';

/** Lists, gets or imports as `s` says; resolves to the exit code. */
export async function weights(s: WeightsSettings): Promise<number> {
  if (s.sub === 'list') return list(s.json);
  if (s.sub === 'import') {
    const filed = await importWeights(s.file, { modelDir: s.modelDir });
    return report({ result: filed, about: `${filed.enumName}: filed in the cache from ${s.file}` }, s.json);
  }
  if (s.sub === 'get-hub') {
    const got = await pretrainedWeights(s.id, { revision: s.revision, cacheDir: s.cacheDir, ...(s.offline ? { offline: true } : {}) });
    const { config } = got;
    return report({
      result: got,
      about: `${got.repoId} at ${got.revision} (commit ${got.commit.slice(0, 12)}): ${got.downloaded ? 'downloaded' : 'already in the cache'}; ` +
        `timm's ${config.architecture}, ${config.numClasses ? `${config.numClasses} classes` : 'no head (an encoder)'}, evaluated at ${config.inputSize[1]} px (crop_pct ${config.cropPct}, ` +
        `${config.interpolation}, mean [${config.mean}], std [${config.std}])`,
    }, s.json);
  }
  if (s.sub === 'get-mae') {
    const mae = await maePretrainedWeights(s.name, { modelDir: s.modelDir, baseUrl: s.baseUrl, verifyCached: s.verify });
    return report({ result: mae, about: `${mae.name}: ${mae.downloaded ? `downloaded from ${mae.url}` : 'already in the cache'}` }, s.json);
  }
  const got = await pretrainedWeights(s.arch, { weights: s.weights, modelDir: s.modelDir, baseUrl: s.baseUrl, verifyCached: s.verify });
  return report({ result: got, about: `${got.enumName}: ${got.downloaded ? `downloaded from ${got.url}` : 'already in the cache'}` }, s.json);
}

/** The file in the cache on stdout (what `W="$(finetorch weights get resnet18)"` takes), or all of it as JSON. */
function report(got: { result: { file: string }; about: string }, json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(got.result, null, 2)}\n`);
  } else {
    process.stderr.write(`${got.about}\n`);
    process.stdout.write(`${got.result.file}\n`);
  }
  return 0;
}

function list(json: boolean): number {
  const dir = hubDir();
  const all = listWeights();
  const hub = listHubWeights();
  if (json) {
    process.stdout.write(`${JSON.stringify({ cache: dir, weights: all, hub: { cache: hfHubCache(), weights: hub } }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`torchvision (torch.hub cache: ${dir}/checkpoints)\n\n${table([
    ['arch', 'weights', 'default', 'ImageNet acc@1', 'acc@5', 'params', 'file'],
    ...all.map((w) => [w.arch, w.name, w.isDefault ? 'yes' : '', w.imagenet.acc1.toFixed(3), w.imagenet.acc5.toFixed(3),
      w.numParams.toLocaleString('en-US'), w.fileName]),
  ], [false, false, false, true, true, true, false])}\n\n` +
    `timm on the Hugging Face Hub (cache: ${hfHubCache()}); eval and predict use each one's own transform from its config.json\n\n${table([
      ['arch', 'id'], ...hub.map((w) => [w.arch, w.id]),
    ], [false, false])}\n`);
  return 0;
}
