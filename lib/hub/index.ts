// Files from the network: resumable, verified downloads, torch.hub's cache and the Hugging Face Hub's (knows nothing of models or training).
export { downloadUrlToFile, DownloadError } from './download';
export type { DownloadOptions } from './download';
export { hubDir } from './torch-hub';
export { hfHubCache } from './hf-env';
export type { HubEnv } from './hf-env';
