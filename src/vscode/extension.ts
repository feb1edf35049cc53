// Entry point. activate() only registers providers, commands, views and watchers: no SDK, network
// or credential loading. The engine loads on first use (./core). Activation time goes to the log.
import * as vscode from 'vscode';
import { registerAddDataSource } from './commands/addDataSource';
import { registerCancelRun } from './commands/cancelRun';
import { registerClearSecret } from './commands/clearSecret';
import { registerCreatePipeline } from './commands/createPipeline';
import { registerExportShards } from './commands/exportShards';
import { registerFinalizeShards } from './commands/finalizeShards';
import { registerMoveSecretToStorage } from './commands/moveSecretToStorage';
import { registerOpenDataset } from './commands/openDataset';
import { registerOpenExplorer } from './commands/openExplorer';
import { registerPreviewPipeline } from './commands/previewPipeline';
import { registerPreviewStep } from './commands/previewStep';
import { registerReplaceEncryptedSecret } from './commands/replaceEncryptedSecret';
import { registerRevealStep } from './commands/revealStep';
import { registerRunFromCode } from './commands/runFromCode';
import { registerRunPipeline } from './commands/runPipeline';
import { registerRunStep } from './commands/runStep';
import { registerSetSecret } from './commands/setSecret';
import { registerShowLog } from './commands/showLog';
import { registerShowRunReport } from './commands/showRunReport';
import { registerVerifyCredentials } from './commands/verifyCredentials';
import { registerVersions } from './commands/versions';
import type { Deps } from './deps';
import { registerCodeActions } from './language/codeActions';
import { registerCodeLens } from './language/codeLens';
import { registerCompletion } from './language/completion';
import { registerDiagnostics } from './language/diagnostics';
import { registerHover } from './language/hover';
import { PIPELINE_GLOB, Services } from './services';
import { ExplorerPanels } from './views/explorerPanel';
import { PipelinesTree } from './views/pipelinesTree';
import { PreviewPanels, registerPreviewSerializer } from './views/previewPanel';
import { RUN_REPORT_SCHEME, RunReportProvider } from './views/runReport';
import { RunsTree } from './views/runsTree';
import { VERSION_REPORT_SCHEME, VersionReportProvider } from './views/versionReport';
import { ScheduleService } from './scheduleService';

/** Coalesces bursts of events (a run writes its record once per step) into one refresh. */
function debounced(fn: () => void, ms: number): { (): void; dispose(): void } {
  let t: NodeJS.Timeout | undefined;
  const f = () => {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  };
  f.dispose = () => clearTimeout(t);
  return f;
}

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const svc = new Services(context);
  context.subscriptions.push(svc);
  const reports = new RunReportProvider();
  const deps: Deps = { svc, previews: new PreviewPanels(context, svc), explorers: new ExplorerPanels(context, svc), reports };
  context.subscriptions.push(deps.previews, deps.explorers, registerPreviewSerializer(deps.previews));

  registerDiagnostics(context, svc);
  registerCompletion(context);
  registerHover(context, svc);
  registerCodeActions(context);
  registerCodeLens(context, svc);

  for (const register of [
    registerRunPipeline,
    registerRunStep,
    registerFinalizeShards,
    registerExportShards,
    registerCancelRun,
    registerPreviewPipeline,
    registerPreviewStep,
    registerVerifyCredentials,
    registerSetSecret,
    registerClearSecret,
    registerOpenDataset,
    registerShowRunReport,
    registerAddDataSource,
    registerCreatePipeline,
    registerMoveSecretToStorage,
    registerReplaceEncryptedSecret,
    registerRevealStep,
    registerShowLog,
    registerRunFromCode,
    registerVersions,
    registerOpenExplorer,
  ]) {
    register(context, deps);
  }

  const schedules = new ScheduleService(svc);
  const pipelines = new PipelinesTree(svc);
  const runs = new RunsTree(svc);
  const refreshPipelines = debounced(() => pipelines.refresh(), 150);
  const refreshRuns = debounced(() => runs.refresh(), 150);
  const refreshSchedules = debounced(() => void schedules.refresh(), 500);
  const refreshAll = () => {
    refreshPipelines();
    refreshRuns();
  };
  // Run records changed on disk (the CLI, another window, our own runs): the store reads them again
  // (async) and the views refresh when it has.
  const reloadRuns = debounced(() => svc.runs.reload().catch((err) => svc.log.warn(`Run history: ${String(err)}`)), 150);
  const pipelineWatcher = vscode.workspace.createFileSystemWatcher(PIPELINE_GLOB);
  // Run records written by the CLI (or another window) show up too.
  const runWatcher = vscode.workspace.createFileSystemWatcher('**/.dsp/runs/*.json');
  context.subscriptions.push(
    refreshPipelines,
    refreshRuns,
    reloadRuns,
    refreshSchedules,
    schedules,
    vscode.workspace.registerTextDocumentContentProvider(RUN_REPORT_SCHEME, reports),
    vscode.workspace.registerTextDocumentContentProvider(VERSION_REPORT_SCHEME, new VersionReportProvider()),
    vscode.window.registerTreeDataProvider('dataPipelines.pipelines', pipelines),
    vscode.window.registerTreeDataProvider('dataPipelines.runs', runs),
    vscode.commands.registerCommand('dataPipelines.refresh', () => {
      reloadRuns();
      refreshAll();
    }),
    pipelineWatcher,
    pipelineWatcher.onDidCreate(refreshAll),
    pipelineWatcher.onDidDelete(refreshAll),
    pipelineWatcher.onDidChange(refreshPipelines),
    pipelineWatcher.onDidCreate(refreshSchedules),
    pipelineWatcher.onDidDelete(refreshSchedules),
    pipelineWatcher.onDidChange(refreshSchedules),
    runWatcher,
    runWatcher.onDidCreate(reloadRuns),
    runWatcher.onDidChange(reloadRuns),
    runWatcher.onDidDelete(reloadRuns),
    svc.runs.onDidChange(refreshAll),
    vscode.workspace.onDidSaveTextDocument((d) => d.uri.path.endsWith('.pipeline.json') && refreshAll()),
    svc.onDidChangeRuns.event(() => {
      refreshAll();
      void vscode.commands.executeCommand('setContext', 'dataPipelines.running', svc.activeRuns.size > 0);
    }),
    svc.onDidChangeSecrets.event(refreshPipelines),
    vscode.workspace.onDidGrantWorkspaceTrust(refreshAll),
  );

  const ms = performance.now() - started;
  svc.log.info(`activated in ${ms.toFixed(2)} ms (trusted: ${vscode.workspace.isTrusted})`);
}

export function deactivate(): void {
  // Everything is in context.subscriptions; runs in progress are aborted by Services.dispose().
}
