// Whole, valid blocks for every builtinTransformationBlock type, as snippets with tab stops.
// Each one loads without errors once its placeholders are filled (unit-tested through the core).
import type { JSONPath } from 'jsonc-parser';

export interface BlockSnippet {
  type: string;
  label: string;
  detail: string;
  /** The block object (the value of "builtinTransformationBlock"), snippet syntax, tab-indented. */
  block: string;
  /** A default step name. */
  stepName: string;
}

const importTail = (n: number) =>
  `\t"category": "\${${n}|split,training,testing|}",\n\t"labelStrategy": "\${${n + 1}|infer-from-folder-name,infer-from-file-name,keep-unlabeled|}"`;

export const BLOCK_SNIPPETS: readonly BlockSnippet[] = [
  {
    type: 's3-to-project',
    label: 's3-to-project (AWS S3)',
    detail: 'Import from an AWS S3 bucket',
    stepName: 'Fetch data from S3',
    block: `{\n\t"type": "s3-to-project",\n\t"path": "s3://\${1:bucket}/\${2:prefix/}",\n\t"region": "\${3:us-east-1}",\n\t"accessKey": "\${4:AKIA...}",\n\t"secretKey": "\\\${secret:\${5:AWS_SECRET_ACCESS_KEY}}",\n${importTail(6)}\n}`,
  },
  {
    type: 's3-to-project',
    label: 's3-to-project (S3-compatible endpoint)',
    detail: 'Import from MinIO, Ceph, R2, B2, Wasabi, GCS (HMAC)…',
    stepName: 'Fetch data from S3-compatible storage',
    block: `{\n\t"type": "s3-to-project",\n\t"path": "s3://\${1:bucket}/\${2:prefix/}",\n\t"endpoint": "\${3:http://127.0.0.1:9000}",\n\t"region": "\${4:us-east-1}",\n\t"accessKey": "\${5:access-key-id}",\n\t"secretKey": "\\\${secret:\${6:S3_SECRET_KEY}}",\n${importTail(7)}\n}`,
  },
  {
    type: 'gcs-to-project',
    label: 'gcs-to-project (Google Cloud Storage)',
    detail: 'Import from a GCS bucket (Application Default Credentials or a key file)',
    stepName: 'Fetch data from GCS',
    block: `{\n\t"type": "gcs-to-project",\n\t"path": "gs://\${1:bucket}/\${2:prefix/}",\n\t"projectId": "\${3:my-project}",\n${importTail(4)}\n}`,
  },
  {
    type: 'azure-to-project',
    label: 'azure-to-project (Azure Blob Storage)',
    detail: 'Import from an Azure Blob container',
    stepName: 'Fetch data from Azure',
    block: `{\n\t"type": "azure-to-project",\n\t"path": "az://\${1:container}/\${2:prefix/}",\n\t"accountName": "\${3:account}",\n\t"accountKey": "\\\${secret:\${4:AZURE_ACCOUNT_KEY}}",\n${importTail(5)}\n}`,
  },
  {
    type: 'folder-to-project',
    label: 'folder-to-project (local folder)',
    detail: 'Import from a local or mounted folder',
    stepName: 'Fetch data from a folder',
    block: `{\n\t"type": "folder-to-project",\n\t"path": "\${1:./raw-images}",\n${importTail(2)}\n}`,
  },
  {
    type: 'project-action',
    label: 'project-action (post-sync actions)',
    detail: 'Refresh the data explorer, retrain, create a version, build a deployment',
    stepName: 'Post-sync actions',
    block: `{\n\t"type": "project-action",\n\t"refreshDataExplorer": \${1|true,false|},\n\t"createVersion": \${2|false,true|}\n}`,
  },
];

/** Indents every line after the first by one tab (for nesting a block inside a step). */
function nest(s: string): string {
  return s.replace(/\n/g, '\n\t');
}

/** A whole step holding the block; the name is the first tab stop after the block's own. */
export function stepSnippet(s: BlockSnippet): string {
  return `{\n\t"name": "\${100:${s.stepName}}",\n\t"builtinTransformationBlock": ${nest(s.block)}\n}`;
}

export type CompletionSite = 'step' | 'block' | undefined;

/**
 * What the cursor can receive, from jsonc-parser's getLocation: a whole step (an element of
 * "steps") or a whole block (the value of "builtinTransformationBlock").
 */
export function completionSite(path: JSONPath, isAtPropertyKey: boolean, inObject: boolean): CompletionSite {
  if (isAtPropertyKey) return undefined;
  if (path.length === 2 && path[0] === 'steps' && typeof path[1] === 'number' && !inObject) return 'step';
  if (path.length === 3 && path[0] === 'steps' && typeof path[1] === 'number' && path[2] === 'builtinTransformationBlock' && !inObject) return 'block';
  return undefined;
}

/** Expands a snippet's placeholders to their defaults (for tests and previews). */
export function expandSnippet(snippet: string): string {
  let out = snippet;
  for (let i = 0; i < 5; i++) {
    out = out.replace(/\$\{\d+\|([^,|]*)[^}]*\|\}/g, '$1').replace(/\$\{\d+:([^{}]*)\}/g, '$1');
  }
  return out.replace(/\\\$/g, '$').replace(/\t/g, '  ');
}
