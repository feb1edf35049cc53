// `scheme://bucket/prefix/` locations, shared by the S3, GCS and Azure sources.
import { UserError } from '../util/errors';

export interface BucketPath {
  bucket: string;
  /** '' or ending in '/': the path names a folder. */
  prefix: string;
}

/** `s3://bucket/prefix/` -> bucket and prefix. A prefix without a trailing '/' is taken as a folder. */
export function parseBucketPath(p: string, scheme: 's3' | 'gs' | 'az', what: string, container = 'bucket'): BucketPath {
  const m = new RegExp(`^${scheme}://([^/]+)(?:/(.*))?$`).exec(p.trim());
  if (!m) throw new UserError(`path "${p}" is not ${what} location: write it as ${scheme}://${container}/prefix/.`, 'InvalidPath');
  let prefix = m[2] ?? '';
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket: m[1], prefix };
}
