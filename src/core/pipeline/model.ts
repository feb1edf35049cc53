// The pipeline file's shape after validation. Field names follow Edge Impulse's pipeline JSON.
import type { CategoryRule, LabelStrategy } from '../types';

export type ImportType = 's3-to-project' | 'gcs-to-project' | 'azure-to-project' | 'folder-to-project';
export const IMPORT_TYPES: readonly ImportType[] = ['s3-to-project', 'gcs-to-project', 'azure-to-project', 'folder-to-project'];

export interface ImportCommon {
  path: string;
  category?: CategoryRule;
  labelStrategy?: LabelStrategy;
  label?: string;
  /**
   * The training share of hash-split samples (0.8: 80% training, the rest testing), or the shares
   * of each category: `{"training": 0.7, "validation": 0.1, "testing": 0.2}` (summing to 1).
   */
  splitRatio?: number | SplitShares;
  include?: string[];
  exclude?: string[];
  deleteRemoved?: boolean;
  allowDuplicates?: boolean;
  concurrency?: number;
}

export interface SplitShares {
  training: number;
  validation?: number;
  testing: number;
}

export interface S3Block extends ImportCommon {
  type: 's3-to-project';
  endpoint?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
  secretKeyEncrypted?: string;
  sessionToken?: string;
  profile?: string;
  requesterPays?: boolean;
  forcePathStyle?: boolean;
}

export interface GcsBlock extends ImportCommon {
  type: 'gcs-to-project';
  projectId?: string;
  keyFile?: string;
  credentials?: string;
  apiEndpoint?: string;
}

export interface AzureBlock extends ImportCommon {
  type: 'azure-to-project';
  accountName?: string;
  accountKey?: string;
  sasToken?: string;
  connectionString?: string;
  endpoint?: string;
}

export interface FolderBlock extends ImportCommon {
  type: 'folder-to-project';
}

export type ImportBlock = S3Block | GcsBlock | AzureBlock | FolderBlock;

export interface ActionBlock {
  type: 'project-action';
  refreshDataExplorer?: boolean;
  retrainModel?: boolean;
  createVersion?: boolean;
  buildBinary?: 'zip';
  buildBinaryModelType?: 'int8' | 'float32';
  /** The training contract (src/core/train/train.ts): run for retrainModel. */
  trainCommand?: string;
  /** Makes other deployment targets from MODEL_DIR into DEPLOY_DIR (for buildBinary). */
  buildCommand?: string;
  /** Working folder of trainCommand and buildCommand, relative to the pipeline file. */
  cwd?: string;
  env?: Record<string, string>;
  timeoutSeconds?: number;
  /** Older files: the model is now what trainCommand writes to MODEL_DIR. */
  modelPath?: string;
}

export interface CustomBlock {
  command: string;
  cwd?: string;
  timeoutSeconds?: number;
  env?: Record<string, string>;
}

export interface Step {
  name: string;
  enabled?: boolean;
  builtinTransformationBlock?: ImportBlock | ActionBlock;
  transformationBlock?: CustomBlock;
  transformationBlockId?: number;
  parameters?: Record<string, unknown>;
}

export interface Pipeline {
  name: string;
  description?: string;
  dataset?: string;
  intervalStr?: string;
  schedule?: string;
  notificationWebhook?: string;
  /** `${secret:NAME}`: signs each webhook POST (HMAC-SHA256 in X-Signature-256, as GitHub does). */
  notificationWebhookSecret?: string;
  emailRecipients?: string[];
  whenToEmail?: 'always' | 'on_new_data' | 'never';
  steps: Step[];
}

export function isImportBlock(b: unknown): b is ImportBlock {
  return !!b && typeof b === 'object' && (IMPORT_TYPES as readonly string[]).includes((b as { type?: string }).type ?? '');
}

export function isActionBlock(b: unknown): b is ActionBlock {
  return !!b && typeof b === 'object' && (b as { type?: string }).type === 'project-action';
}

/** Fields whose value is a secret: only ${secret:…}/${env:…} references are allowed there. */
export const SECRET_FIELDS = ['secretKey', 'sessionToken', 'accountKey', 'sasToken', 'connectionString', 'credentials'] as const;

export type StepKind = 'import' | 'action' | 'custom';

export function stepType(step: Step): string {
  return step.builtinTransformationBlock?.type ?? 'transformation-block';
}
