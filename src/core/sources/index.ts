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
    case 'gcs-to-project': {
      const { createGcsSource } = await import('./gcs');
      return createGcsSource(block, ctx);
    }
    case 'azure-to-project': {
      const { createAzureSource } = await import('./azure');
      return createAzureSource(block, ctx);
    }
    default:
      throw new UserError(`Unknown import block type "${(block as { type: string }).type}".`);
  }
}
