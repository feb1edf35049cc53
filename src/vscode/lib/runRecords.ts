// Reading run records without blocking the extension host. Pure (no vscode import), unit-tested.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { RunRecord } from '../../core';

/** The newest `limit` run records in a runs folder (as the core's listRuns reads them, without blocking). */
export async function readRuns(runsDir: string, limit: number): Promise<RunRecord[]> {
  let names: string[];
  try {
    names = (await fs.readdir(runsDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  names.sort().reverse();
  const read = await Promise.all(
    names.slice(0, limit).map(async (n) => {
      try {
        return JSON.parse(await fs.readFile(path.join(runsDir, n), 'utf8')) as RunRecord;
      } catch {
        // A record cut short by a crash is skipped.
        return undefined;
      }
    }),
  );
  return read.filter((r): r is RunRecord => r !== undefined);
}
