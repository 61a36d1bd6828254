// The --device flag of the LibTorch commands. Only its form is checked here (no LibTorch loaded);
// whether the machine has that device, checkDevice in cli/inference-model.ts says.
import type { Device } from '../../model/model';
import { Flags, OptionSpec, UsageError } from '../args';

export const DEVICE_OPTION: OptionSpec = { type: 'string', value: 'DEV', help: 'cpu, cuda or cuda:N', default: 'cpu' };

export function deviceFlag(flags: Flags): Device {
  const device = flags.required('device');
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device must be cpu, cuda or cuda:N, got '${device}'`);
  return device as Device;
}
