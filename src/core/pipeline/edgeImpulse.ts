// Edge Impulse's own pipeline JSON, as Studio and its API hand it out: what each field that has no
// meaning here means, so that a file pasted from "Run pipeline from code" or fetched from the API
// loads with warnings that say what to do instead of errors. Pure tables and one normaliser.

/** Fields Edge Impulse's API returns on a pipeline (read-only there), and what each means here. */
export const EI_PIPELINE_FIELDS: Readonly<Record<string, string>> = {
  id: "is Edge Impulse's pipeline id. Here a pipeline is its file; the field is ignored.",
  organizationId: 'is the Edge Impulse organization that owns the pipeline. Runs here need no organization; the field is ignored.',
  created: "is when Edge Impulse created the pipeline. It is ignored here; the file's history is in version control.",
  lastRun: 'is read-only in Edge Impulse. Here the Runs view and `data-pipelines runs` show the last run; the field is ignored.',
  nextRun: 'is computed by Edge Impulse. Here the schedule (intervalStr or schedule) decides it and the Pipelines view shows it; the field is ignored.',
  currentRun: "is Edge Impulse's run in progress. Here the Runs view shows it; the field is ignored.",
  lastRunStartError: "is Edge Impulse's last start error. Here the Runs view and the log show errors; the field is ignored.",
  emailRecipientUids: 'holds Edge Impulse user ids, so it cannot send mail here: use "emailRecipients" with e-mail addresses.',
  projectIds: 'names the Edge Impulse projects the pipeline feeds. Here the pipeline feeds its "dataset" folder; the field is ignored.',
  feedingDataset: 'is ignored here: the pipeline feeds its "dataset" folder.',
  isScheduled: 'is computed by Edge Impulse; here a pipeline is scheduled when it has intervalStr or schedule. The field is ignored.',
};

/** Step fields Edge Impulse uses that have no local meaning, and what each means here. */
export const EI_STEP_FIELDS: Readonly<Record<string, string>> = {
  uploadType: 'is where Edge Impulse uploads the output (an Edge Impulse project or dataset). Here every step writes to the local "dataset" folder; the field is ignored.',
  projectId: 'is an Edge Impulse project id. Here every step writes to the local "dataset" folder; the field is ignored.',
  newProjectName: 'names an Edge Impulse project to create. Here every step writes to the local "dataset" folder; the field is ignored.',
  outputDatasetName: 'names an Edge Impulse organization dataset. Here every step writes to the local "dataset" folder; the field is ignored.',
  outputDatasetBucketId: 'is an Edge Impulse bucket id. Here every step writes to the local "dataset" folder; the field is ignored.',
  outputDatasetBucketPath: 'is a path in an Edge Impulse bucket. Here every step writes to the local "dataset" folder; the field is ignored.',
  outputPathInDataset: 'is a path in an Edge Impulse dataset. Here every step writes to the local "dataset" folder; the field is ignored.',
  pathFilters: 'filters an Edge Impulse dataset. Here filter the import with "includeGlobs"/"excludeGlobs" on the block; the field is ignored.',
  filter: 'is an Edge Impulse dataset query. Here filter the import with "includeGlobs"/"excludeGlobs" on the block; the field is ignored.',
  transformationParallel: 'is how many Edge Impulse transformation jobs run at once. Here a custom block runs once per step; the field is ignored.',
  extraCliArguments: 'are extra arguments for an Edge Impulse transformation block. Here put them in "transformationBlock.command"; the field is ignored.',
};

/** uploadType values Edge Impulse accepts. */
export const EI_UPLOAD_TYPES = ['project', 'dataset'] as const;

/** Block types that exist only in Edge Impulse Studio, and what to use here instead. */
export const EI_ONLY_BLOCKS: Readonly<Record<string, string>> = {
  'portal-to-project':
    'imports from an Edge Impulse upload portal, which exists only in Edge Impulse Studio. Import the bucket or folder behind the portal instead: "s3-to-project", "gcs-to-project", "azure-to-project" or "folder-to-project".',
  'dataset-to-project':
    'imports from an Edge Impulse organization dataset, which exists only in Edge Impulse Studio. Import the bucket that holds the dataset ("s3-to-project", "gcs-to-project", "azure-to-project") or a local copy ("folder-to-project") instead.',
};

/** The name a bare steps array gets: the file name without .pipeline.json (or .json). */
export function nameFromFile(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  const name = base.replace(/\.pipeline\.json$/i, '').replace(/\.json$/i, '');
  return name || 'pipeline';
}

export interface IgnoredField {
  /** JSON path of the field, in the normalised pipeline. */
  path: (string | number)[];
  message: string;
  severity: 'warning' | 'error';
}

/**
 * Takes Edge Impulse's fields out of a parsed pipeline (so the schema sees only what runs here) and
 * says what each meant. Mutates `data`.
 */
export function stripEdgeImpulseFields(data: Record<string, unknown>): IgnoredField[] {
  const out: IgnoredField[] = [];
  for (const [k, meaning] of Object.entries(EI_PIPELINE_FIELDS)) {
    if (!Object.prototype.hasOwnProperty.call(data, k)) continue;
    out.push({ path: [k], message: `"${k}" ${meaning}`, severity: 'warning' });
    delete data[k];
  }
  const steps = Array.isArray(data.steps) ? data.steps : [];
  steps.forEach((step: unknown, i: number) => {
    if (!step || typeof step !== 'object' || Array.isArray(step)) return;
    const s = step as Record<string, unknown>;
    for (const [k, meaning] of Object.entries(EI_STEP_FIELDS)) {
      if (!Object.prototype.hasOwnProperty.call(s, k)) continue;
      const v = s[k];
      if (k === 'uploadType' && !(EI_UPLOAD_TYPES as readonly unknown[]).includes(v)) {
        out.push({ path: ['steps', i, k], message: `uploadType must be "project" or "dataset", as in Edge Impulse (it is ignored here: every step writes to the local "dataset" folder). Fix the value or remove the field.`, severity: 'error' });
      } else {
        out.push({ path: ['steps', i, k], message: `"${k}" ${meaning}`, severity: 'warning' });
      }
      delete s[k];
    }
  });
  return out;
}
