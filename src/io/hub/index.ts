// Model sources from the Hugging Face Hub (opt-in): a repo id → the files the loader needs, with
// per-file progress, cached in the browser, as a ModelDirSource. docs/model-sources.md describes it.
export { openHubRepo, type HubProgress, type HubRepo, type OpenHubOptions } from './download';
export { cacheStorageHubCache, memoryHubCache, CACHE_NAME, type FileWriter, type HubCache, type HubManifest } from './cache';
export { HubError, type HubErrorCode } from './errors';
export { fetchFile, memorySink, type ByteSink, type FileProgress } from './fetchFile';
export { sourceFromBlobs } from './blobs';
export { Sha256 } from './sha256';
export { COMPANIONS, neededFiles, shardNames, type HubFileInfo } from './files';
export { DEFAULT_HUB_BASE, HUB_ORIGINS, hubOrigins } from './origins';
export { parseRepoRef, type RepoRef } from './repoId';
