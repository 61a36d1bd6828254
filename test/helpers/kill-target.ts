// Child process of the kill tests: writes one file over and over until it is killed, printing
// "saved <generation>" after each write. Every tensor of generation g is filled with g, so a
// reader can tell a whole file of one generation from a mix.
//   kill-target.js pth FILE          savePth of a 3 x 1M float32 state dict (12 MB)
//   kill-target.js checkpoint FILE   saveCheckpoint of a 2-class ResNet-18 and its SGD state
import { ResNet18, SGD, saveCheckpoint, savePth } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';

export const PTH_TENSORS = ['a', 'b', 'c'];
export const PTH_ELEMENTS = 2 ** 20;

async function savePthForever(file: string): Promise<void> {
  for (let generation = 1; ; generation++) {
    const tensor = (): HostTensor => ({ dtype: 'float32', shape: [PTH_ELEMENTS], data: new Float32Array(PTH_ELEMENTS).fill(generation) });
    await savePth(file, new Map(PTH_TENSORS.map((name) => [name, tensor()])));
    console.log(`saved ${generation}`);
  }
}

async function saveCheckpointForever(file: string): Promise<void> {
  const net = await ResNet18.create({ numClasses: 2 });
  const optimizer = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  for (let generation = 1; ; generation++) {
    await saveCheckpoint(file, { net, optimizer }, { epoch: generation, history: [] });
    console.log(`saved ${generation}`);
  }
}

if (require.main === module) {
  const [what, file] = process.argv.slice(2);
  (what === 'pth' ? savePthForever(file) : saveCheckpointForever(file)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
