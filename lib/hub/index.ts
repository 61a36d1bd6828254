// Files from the network, as torch.hub fetches them: resumable, verified downloads, and torch.hub's cache (knows nothing of models or training).
export { downloadUrlToFile, DownloadError } from './download';
export type { DownloadOptions } from './download';
export { hubDir } from './torch-hub';
