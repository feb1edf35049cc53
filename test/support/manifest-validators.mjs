// Validators from the published schemas, for test/unit/export.test.ts: Kubernetes' batch/v1 Job
// (kubernetes-models, generated from the Kubernetes OpenAPI schema, validated with Ajv) and GitHub's
// own workflow parser and schema (@actions/workflow-parser, the one the Actions language service
// uses). Both are ESM with JSON imports, so the test bundles this file with esbuild first.
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser';
import { Job } from 'kubernetes-models/batch/v1';

/** Throws with the schema's message when `obj` is not a valid batch/v1 Job. */
export function validateJob(obj) {
  new Job(obj).validate();
}

/** The errors GitHub's parser finds in a workflow file (none: it is valid). */
export async function workflowErrors(name, content) {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const e of template.errors ?? []) errors.push(e.Message ?? e.message ?? String(e));
  }
  return [...new Set(errors)];
}
