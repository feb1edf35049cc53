// Which module serves which block type. Cloud SDKs load on first use, never at startup.
import * as path from 'node:path';
import type { ImportBlock } from '../pipeline/model';
import type { Resolver } from '../pipeline/refs';
import type { Logger, Source } from '../types';
import { UserError } from '../util/errors';
import { FolderSource } from './folder';

export interface SourceContext {
  /** The pipeline file's folder: relative paths start here. */
  baseDir: string;
  datasetDir: string;
  resolver: Resolver;
  logger: Logger;
  /** Step name, for messages. */
  step: string;
}

export async function createSource(block: ImportBlock, ctx: SourceContext): Promise<Source> {
  switch (block.type) {
    case 'folder-to-project':
      return new FolderSource(path.resolve(ctx.baseDir, block.path), [ctx.datasetDir]);
    case 's3-to-project': {
      const { createS3Source } = await import('./s3');
      return createS3Source(block, ctx);
    }
    case 'gcs-to-project':
    case 'azure-to-project':
      throw new UserError(`${block.type} is not available in this version yet. Use its S3-compatible endpoint with s3-to-project (GCS: https://storage.googleapis.com with HMAC keys), or sync it to a folder and use folder-to-project.`, 'unsupported-source');
    default:
      throw new UserError(`Unknown import block type "${(block as { type: string }).type}".`);
  }
}
