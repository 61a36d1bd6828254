// finetorch weights, the work: torchvision's pretrained ResNet weights in torch.hub's cache: the
// list, a download into it (get), a copy filed into it (import).
import { hubDir } from '../../hub/torch-hub';
import { PretrainedWeights, importWeights, listWeights, pretrainedWeights } from '../../model/torchvision-weights';
import type { WeightsSettings } from '../settings';
import { table } from '../table';

/** Lists, gets or imports as `s` says; resolves to the exit code. */
export async function weights(s: WeightsSettings): Promise<number> {
  if (s.sub === 'list') return list(s.json);
  if (s.sub === 'import') return report(await importWeights(s.file, { modelDir: s.modelDir }), `filed in the cache from ${s.file}`, s.json);
  const got = await pretrainedWeights(s.arch, { weights: s.weights, modelDir: s.modelDir, baseUrl: s.baseUrl, verifyCached: s.verify });
  return report(got, got.downloaded ? `downloaded from ${got.url}` : 'already in the cache', s.json);
}

/** The file in the cache on stdout (what `W="$(finetorch weights get resnet18)"` takes), or all of it as JSON. */
function report(got: PretrainedWeights, how: string, json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(got, null, 2)}\n`);
  } else {
    process.stderr.write(`${got.enumName}: ${how}\n`);
    process.stdout.write(`${got.file}\n`);
  }
  return 0;
}

function list(json: boolean): number {
  const dir = hubDir();
  const all = listWeights();
  if (json) {
    process.stdout.write(`${JSON.stringify({ cache: dir, weights: all }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${table([
    ['arch', 'weights', 'default', 'ImageNet acc@1', 'acc@5', 'params', 'file'],
    ...all.map((w) => [w.arch, w.name, w.isDefault ? 'yes' : '', w.imagenet.acc1.toFixed(3), w.imagenet.acc5.toFixed(3),
      w.numParams.toLocaleString('en-US'), w.fileName]),
  ], [false, false, false, true, true, true, false])}\n\ncache: ${dir}/checkpoints\n`);
  return 0;
}
