// Which module serves which block type. Cloud SDKs load on first use, never at startup.
import type { AzureBlock, FolderBlock, GcsBlock, ImportBlock, S3Block } from '../pipeline/model';
import type { Resolver } from '../pipeline/refs';
import type { Logger, Source } from '../types';
import { UserError } from '../util/errors';

export interface SourceContext {
  /** The pipeline file's folder: relative paths start here. */
  baseDir: string;
  datasetDir: string;
  resolver: Resolver;
  logger: Logger;
  /** Step name, for messages. */
  step: string;
}

type Factory = (block: ImportBlock, ctx: SourceContext) => Promise<Source>;

/**
 * One line per storage kind: its block type and the module that makes its Source. A fifth kind is
 * a folder of its own and a line here. Modules load on first use (the cloud SDKs are large).
 */
const REGISTRY: Record<ImportBlock['type'], Factory> = {
  'folder-to-project': async (b, ctx) => (await import('./folder')).createFolderSource(b as FolderBlock, ctx),
  's3-to-project': async (b, ctx) => (await import('./s3')).createS3Source(b as S3Block, ctx),
  'gcs-to-project': async (b, ctx) => (await import('./gcs')).createGcsSource(b as GcsBlock, ctx),
  'azure-to-project': async (b, ctx) => (await import('./azure')).createAzureSource(b as AzureBlock, ctx),
};

export async function createSource(block: ImportBlock, ctx: SourceContext): Promise<Source> {
  const make = REGISTRY[block.type];
  if (!make) throw new UserError(`Unknown import block type "${(block as { type: string }).type}".`);
  return make(block, ctx);
}
