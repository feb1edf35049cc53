// What each source's last listing said of its parts (Source.listingPlan: for S3, the folders it
// listed apart), kept in <dataset>/.dsp/listing.json by source id. The next listing requests those
// parts at once, with the first level, instead of one round trip later: a bucket 20 ms away lists
// in one round trip instead of two. A hint that no longer fits the bucket costs only the requests
// it named; the listing itself is always the bucket's. Written by runs, under the dataset's lock.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { metaDir } from '../dataset/state';
import { writeFileAtomic } from '../util/files';

const HINTS_FILE = 'listing.json';
/** At most this many sources' hints are kept (the newest). */
const MAX_SOURCES = 32;

type Hints = Record<string, string[]>;

export function readListingHints(datasetDir: string): Hints {
  try {
    const doc = JSON.parse(fs.readFileSync(path.join(metaDir(datasetDir), HINTS_FILE), 'utf8')) as unknown;
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Hints) : {};
  } catch {
    return {};
  }
}

/** Keeps `plan` as the source's hint (nothing is written when it is the one kept already). */
export function keepListingHint(datasetDir: string, sourceId: string, plan: string[] | undefined, known: Hints): void {
  const before = known[sourceId];
  if (!plan?.length ? !before : before && before.length === plan.length && before.every((p, i) => p === plan[i])) return;
  const next: Hints = {};
  for (const [id, h] of Object.entries(known).filter(([id]) => id !== sourceId).slice(-(MAX_SOURCES - 1))) next[id] = h;
  if (plan?.length) next[sourceId] = plan;
  writeFileAtomic(path.join(metaDir(datasetDir), HINTS_FILE), JSON.stringify(next));
  known[sourceId] = plan ?? [];
}
