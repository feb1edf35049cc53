// The files at the dataset's root that describe it to the tools that load it.
import { writeInfoLabels, writeLabelsTxt } from './infoLabels';
import { labelFolderOf } from './layout';
import type { SyncState } from './state';

/**
 * `info.labels` (every sample, Edge Impulse's format) and `labels.txt` (the class folders, sorted:
 * what torchvision, Keras and Hugging Face take for classes in every category).
 */
export function writeDatasetIndex(datasetDir: string, state: SyncState): void {
  writeInfoLabels(datasetDir, state.all());
  const classes = new Set<string>();
  for (const e of state.all()) {
    const folder = e.status === 'synced' && e.path && e.label !== null ? labelFolderOf(e.path) : undefined;
    if (folder !== undefined) classes.add(folder);
  }
  writeLabelsTxt(datasetDir, classes);
}
