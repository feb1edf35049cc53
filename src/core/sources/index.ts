// Which module serves which block type. Cloud SDKs load on first use, never at startup.
import type { ImportBlock } from '../pipeline/model';
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
  /**
   * Objects per listing page, below the store's maximum (S3 1000, GCS 1000, Azure 5000); unset: the
   * maximum. Only tests and benchmarks set it, to see paging with few objects.
   */
  pageSize?: number;
  /**
   * S3: a connection that sends nothing for this long is dropped and the request retried. Unset:
   * the DSP_S3_IDLE_TIMEOUT_MS environment variable, else 60 s.
   */
  idleTimeoutMs?: number;
  /** What the last listing of a source said of its parts (Source.listingPlan), by the source's id. */
  listingHint?: (sourceId: string) => string[] | undefined;
}

/** A storage kind's factory: its block in, its Source out. */
export type SourceFactory<B extends ImportBlock = ImportBlock> = (block: B, ctx: SourceContext) => Promise<Source>;

/**
 * One line per storage kind: its block type and the module that makes its Source (each module
 * exports one create*Source). A fifth kind is a folder or file of its own and a line here. Modules
 * load on first use (the cloud SDKs are large).
 */
export const SOURCE_REGISTRY: { readonly [T in ImportBlock['type']]: () => Promise<SourceFactory<Extract<ImportBlock, { type: T }>>> } = {
  'folder-to-project': async () => (await import('./folder')).createFolderSource,
  's3-to-project': async () => (await import('./s3')).createS3Source,
  'gcs-to-project': async () => (await import('./gcs')).createGcsSource,
  'azure-to-project': async () => (await import('./azure')).createAzureSource,
};

export { errorKind } from './common';

export async function createSource(block: ImportBlock, ctx: SourceContext): Promise<Source> {
  const registry = SOURCE_REGISTRY as Record<string, (() => Promise<SourceFactory>) | undefined>;
  const load = Object.prototype.hasOwnProperty.call(registry, block.type) ? registry[block.type] : undefined;
  if (!load) throw new UserError(`Unknown import block type "${(block as { type: string }).type}".`);
  return (await load())(block, ctx);
}
