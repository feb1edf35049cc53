// The engine's public surface, shared by the CLI and the editor.
export * from './types';
export * from './pipeline/model';
export { loadPipelineFile, loadPipelineText, formatProblem, type LoadedPipeline } from './pipeline/validate';
export { datasetDirFor } from './pipeline/datasetDir';
export { envResolver, parseRef, resolveValue, MissingSecretError, type Resolver, type SecretLookup } from './pipeline/refs';
export { previewPipeline, verifyPipeline, runPipeline, type EngineOptions, type RunOptions, type StepVerification } from './run/engine';
export { listRuns, getRun, runsDir } from './run/history';
export { DatasetLockedError } from './dataset/lock';
export { parseCron, nextCronRun } from './schedule/cron';
export { parseInterval } from './schedule/interval';
export { UserError } from './util/errors';
export { notifyRun, smtpFromEnv, runReport, redactUrl, type NotifyOptions, type SmtpConfig, type RunReport } from './notify';
export { Scheduler, nextRunTime, type ScheduledEntry } from './schedule/scheduler';
export { startApiServer, findPipelineFiles, pipelineId, generateApiKey, type ApiServer, type ApiOptions } from './api/server';
export { listVersions, getVersion, diffVersions, restoreVersion, pruneVersions, versionFiles, type VersionInfo, type VersionDiff, type SampleChange, type RestoreResult } from './train/versions';
export { initTrainer, type InitTrainerOptions, type InitTrainerResult } from './train/initTrainer';
export { latestModel } from './train/models';
export { formatMetric, orderedMetrics, tableCells } from './train/metrics';
