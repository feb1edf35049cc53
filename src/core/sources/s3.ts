// Placeholder until the S3 source lands.
import type { S3Block } from '../pipeline/model';
import type { Source } from '../types';
import { UserError } from '../util/errors';
import type { SourceContext } from './index';

export async function createS3Source(_block: S3Block, _ctx: SourceContext): Promise<Source> {
  throw new UserError('s3-to-project is not available yet.');
}
