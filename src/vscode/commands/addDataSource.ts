import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ActionBlock, ImportBlock, Step } from '../../core';
import { core } from '../core';
import type { Deps } from '../deps';
import { pipelineArg } from '../lib/args';
import { addStepEdits, applyTextEdits, newPipelineText, outlinePipeline, secretRef, serviceAccountKeyProblem, suggestSecretName, validateSecretName } from '../lib/pipelineDoc';
import { errorText, isPipelineUri, PIPELINE_GLOB, pipelineText, type Services } from '../services';
import { describeVerification, verifySteps } from './verifyCredentials';

/** gcs: native gcs-to-project (service account or ADC); gcs-hmac: GCS's S3-compatible XML API with HMAC keys (s3-to-project). */
type Kind = 's3' | 's3-compatible' | 'gcs' | 'gcs-hmac' | 'azure' | 'folder' | 'none';

interface Draft {
  kind: Kind;
  block?: ImportBlock;
  secret?: { name: string; value: string };
  actions?: ActionBlock;
}

class Cancelled extends Error {}

const TITLE = 'Add data source';

async function input(step: string, o: vscode.InputBoxOptions): Promise<string> {
  const v = await vscode.window.showInputBox({ title: `${TITLE}: ${step}`, ignoreFocusOut: true, ...o });
  if (v === undefined) throw new Cancelled();
  return v.trim();
}

async function pick<T extends vscode.QuickPickItem>(step: string, items: T[], placeHolder: string): Promise<T> {
  const v = await vscode.window.showQuickPick(items, { title: `${TITLE}: ${step}`, placeHolder, ignoreFocusOut: true, matchOnDescription: true });
  if (!v) throw new Cancelled();
  return v;
}

/** Where the step goes: the active pipeline, a pick, or a new file. */
async function targetFile(forceNew: boolean): Promise<{ uri: vscode.Uri; exists: boolean; pipelineName?: string }> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (!forceNew && isPipelineUri(active)) return { uri: active, exists: true };
  const files = forceNew ? [] : await vscode.workspace.findFiles(PIPELINE_GLOB, '**/node_modules/**', 200);
  if (files.length) {
    const choice = await pick(
      'pipeline file',
      [...files.map((f) => ({ label: path.basename(f.fsPath), description: vscode.workspace.asRelativePath(f), uri: f as vscode.Uri | undefined })), { label: '$(new-file) New pipeline file…', description: '', uri: undefined }],
      'Which pipeline gets the new step?',
    );
    if (choice.uri) return { uri: choice.uri, exists: true };
  }
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showWarningMessage('Open a folder first: the pipeline file and its dataset live in the workspace.');
    throw new Cancelled();
  }
  const name = await input('new pipeline file', {
    prompt: `File name, in ${folder.name}`,
    value: 'data.pipeline.json',
    validateInput: (v) => (!/\.pipeline\.json$/.test(v.trim()) ? 'The name must end with .pipeline.json' : fs.existsSync(path.join(folder.uri.fsPath, v.trim())) ? 'That file exists already: pick it instead.' : undefined),
  });
  const pipelineName = await input('pipeline name', { prompt: 'Shown in the sidebar and run reports', value: 'Import dataset', validateInput: (v) => (v.trim() ? undefined : 'Give the pipeline a name.') });
  return { uri: vscode.Uri.joinPath(folder.uri, name), exists: false, pipelineName };
}

const S3_PATH = /^s3:\/\/[^/]+(\/.*)?$/;

/** Google Cloud Storage: the native block, or the S3-compatible XML API with HMAC keys. */
async function gcsAccess(): Promise<Kind> {
  const choice = await pick(
    'Google Cloud Storage access',
    [
      { label: '$(key) Service account or Application Default Credentials', description: 'gcs-to-project, the JSON API', id: 'gcs' as Kind },
      { label: '$(server) HMAC keys over the S3 API (s3-to-project)', description: "GCS's S3-compatible XML API with an HMAC access key and secret", id: 'gcs-hmac' as Kind },
    ],
    'How does the pipeline reach the bucket?',
  );
  return choice.id;
}

const GS_PATH = /^gs:\/\/[^/]+(\/.*)?$/;

async function gcsLocationAndCredentials(baseDir: string, prev: Record<string, string | undefined> | undefined): Promise<{ block: ImportBlock; secret?: Draft['secret'] }> {
  const p = await input('location', {
    prompt: 'Bucket and prefix, as gs://bucket/prefix/',
    placeHolder: 'gs://my-bucket/images/',
    value: prev?.path?.startsWith('gs://') ? prev.path : undefined,
    validateInput: (v) => (GS_PATH.test(v.trim()) ? undefined : 'Write it as gs://bucket/prefix/'),
  });
  const block: ImportBlock = { type: 'gcs-to-project', path: p };
  const how = await pick(
    'credentials',
    [
      { label: '$(key) Service-account key, kept in Secret Storage', description: 'pick the JSON key file; the file says ${secret:NAME}', id: 'secret' as const },
      { label: '$(file) Service-account key file (keyFile)', description: 'the pipeline names a JSON key file on this machine', id: 'keyFile' as const },
      { label: '$(account) Application Default Credentials', description: 'gcloud auth application-default login, a workload identity, or a public bucket', id: 'adc' as const },
    ],
    'Which credentials read the bucket?',
  );
  if (how.id === 'adc') return { block };
  if (how.id === 'keyFile') {
    block.keyFile = await input('key file', {
      prompt: `Path of the service-account JSON key, absolute or relative to ${baseDir}. Keep it out of version control.`,
      placeHolder: './gcs-key.json',
      value: prev?.keyFile,
      validateInput: (v) => {
        if (!v.trim()) return 'Enter the path of the key file.';
        try {
          return serviceAccountKeyProblem(fs.readFileSync(path.resolve(baseDir, v.trim()), 'utf8'));
        } catch {
          return `${path.resolve(baseDir, v.trim())} cannot be read.`;
        }
      },
    });
    return { block };
  }
  for (;;) {
    const picked = await vscode.window.showOpenDialog({ title: `${TITLE}: service-account key (JSON)`, canSelectMany: false, openLabel: 'Use this key', filters: { 'JSON key': ['json'] }, defaultUri: vscode.Uri.file(baseDir) });
    if (!picked?.[0]) throw new Cancelled();
    const value = Buffer.from(await vscode.workspace.fs.readFile(picked[0])).toString('utf8');
    const problem = serviceAccountKeyProblem(value);
    if (problem) {
      const again = await vscode.window.showWarningMessage(`${path.basename(picked[0].fsPath)}: ${problem}`, 'Pick Another File');
      if (!again) throw new Cancelled();
      continue;
    }
    const name = await input('secret name', { prompt: 'The file will say ${secret:NAME}; the CLI reads the environment variable NAME (the whole JSON key).', value: suggestSecretName(p.replace(/^gs:\/\//, ''), 'credentials', 'gcs-to-project'), validateInput: validateSecretName });
    block.credentials = secretRef(name);
    return { block, secret: { name, value } };
  }
}

async function locationAndCredentials(kind: Kind, baseDir: string, previous?: ImportBlock): Promise<{ block: ImportBlock; secret?: Draft['secret'] }> {
  const prev = previous as Record<string, string | undefined> | undefined;
  switch (kind) {
    case 'gcs':
      return gcsLocationAndCredentials(baseDir, prev);
    case 's3':
    case 's3-compatible':
    case 'gcs-hmac': {
      const scheme = kind === 'gcs-hmac' ? 'gs' : 's3';
      let p = await input('location', {
        prompt: kind === 'gcs-hmac' ? 'Bucket and prefix, as gs://bucket/prefix/ (read through GCS\'s S3-compatible XML API with HMAC keys)' : 'Bucket and prefix, as s3://bucket/prefix/',
        placeHolder: `${scheme}://my-bucket/images/`,
        value: prev?.path?.replace(/^s3:/, `${scheme}:`),
        validateInput: (v) => (new RegExp(`^${scheme}://[^/]+(/.*)?$`).test(v.trim()) ? undefined : `Write it as ${scheme}://bucket/prefix/`),
      });
      if (kind === 'gcs-hmac') p = p.replace(/^gs:/, 's3:');
      if (!S3_PATH.test(p)) throw new Error(`unexpected path ${p}`);
      const block: ImportBlock = { type: 's3-to-project', path: p };
      if (kind === 's3-compatible') {
        block.endpoint = await input('endpoint', {
          prompt: 'The S3-compatible endpoint URL (MinIO, Ceph, R2, B2, Wasabi, Scaleway…)',
          placeHolder: 'https://s3.fr-par.scw.cloud',
          value: prev?.endpoint,
          validateInput: (v) => {
            try {
              const u = new URL(v.trim());
              return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'Use an http:// or https:// URL.';
            } catch {
              return 'Use an http:// or https:// URL.';
            }
          },
        });
      }
      if (kind === 'gcs-hmac') block.endpoint = 'https://storage.googleapis.com';
      block.region = await input('region', { prompt: "The bucket's region", value: prev?.region ?? (kind === 'gcs-hmac' ? 'auto' : 'us-east-1'), validateInput: (v) => (v.trim() ? undefined : 'Give a region (us-east-1 works for most S3-compatible stores).') });
      const accessKey = await input('access key', {
        prompt: kind === 's3' ? 'Access key id. Leave empty to use the AWS credential chain (environment, profile, SSO, instance role).' : kind === 'gcs-hmac' ? 'HMAC access key id' : 'Access key id',
        value: prev?.accessKey,
        validateInput: (v) => (kind !== 's3' && !v.trim() ? 'Enter the access key id.' : undefined),
      });
      if (!accessKey) return { block };
      block.accessKey = accessKey;
      const value = await input('secret key', { prompt: 'Secret access key: stored in VS Code Secret Storage, never in the file.', password: true, validateInput: (v) => (v ? undefined : 'Enter the secret key.') });
      const name = await input('secret name', { prompt: 'The file will say ${secret:NAME}; the CLI reads the environment variable NAME.', value: suggestSecretName(p.replace(/^s3:\/\//, ''), 'secretKey', 's3-to-project'), validateInput: validateSecretName });
      block.secretKey = secretRef(name);
      return { block, secret: { name, value } };
    }
    case 'azure': {
      const p = await input('location', { prompt: 'Container and prefix, as az://container/prefix/', placeHolder: 'az://images/cars/', value: prev?.path, validateInput: (v) => (/^az:\/\/[^/]+(\/.*)?$/.test(v.trim()) ? undefined : 'Write it as az://container/prefix/') });
      const accountName = await input('account', { prompt: 'Storage account name', value: prev?.accountName, validateInput: (v) => (v.trim() ? undefined : 'Enter the account name.') });
      const value = await input('account key', { prompt: 'Account key: stored in VS Code Secret Storage, never in the file.', password: true, validateInput: (v) => (v ? undefined : 'Enter the account key.') });
      const name = await input('secret name', { prompt: 'The file will say ${secret:NAME}.', value: suggestSecretName(accountName, 'accountKey', 'azure-to-project'), validateInput: validateSecretName });
      return { block: { type: 'azure-to-project', path: p, accountName, accountKey: secretRef(name) }, secret: { name, value } };
    }
    case 'folder': {
      const p = await input('folder', {
        prompt: `A local or mounted folder, absolute or relative to ${baseDir}`,
        placeHolder: './raw-images',
        value: prev?.path,
        validateInput: (v) => {
          if (!v.trim()) return 'Enter a folder.';
          const abs = path.resolve(baseDir, v.trim());
          try {
            return fs.statSync(abs).isDirectory() ? undefined : `${abs} is a file, not a folder.`;
          } catch {
            return `${abs} does not exist.`;
          }
        },
      });
      return { block: { type: 'folder-to-project', path: p } };
    }
    default:
      throw new Error(`no location for ${kind}`);
  }
}

async function verifyDraft(svc: Services, file: vscode.Uri, block: ImportBlock, secret: Draft['secret']): Promise<'ok' | 'retry' | 'keep'> {
  // The step has no name yet: the verdict names the location the user just gave.
  const stepName = block.path;
  const text = newPipelineText('verify', [{ name: stepName, builtinTransformationBlock: block }]);
  try {
    // The secret is not stored yet: the check reads it from the wizard.
    const results = await verifySteps(svc, file, [stepName], text, secret ? { [secret.name]: secret.value } : {});
    const v = results?.[0];
    if (v?.result.ok) {
      void vscode.window.showInformationMessage(describeVerification(v));
      return 'ok';
    }
    const why = v ? describeVerification(v) : 'The location could not be checked.';
    svc.log.warn(`[add data source] ${why}`);
    const choice = await pick(
      'verification failed',
      [
        { label: '$(edit) Change the location or credentials', id: 'retry' as const },
        { label: '$(check) Keep these settings anyway', id: 'keep' as const },
      ],
      why,
    );
    return choice.id;
  } catch (err) {
    if (err instanceof Cancelled) throw err;
    svc.log.warn(`[add data source] verification failed: ${errorText(err)}`);
    return 'keep';
  }
}

async function labelsAndCategory(block: ImportBlock): Promise<void> {
  const strategy = await pick(
    'labels',
    [
      { label: 'Infer from folder name', description: 'cars/0001.jpg → cars', id: 'infer-from-folder-name' as const },
      { label: 'Infer from file name', description: 'cars.0001.jpg → cars', id: 'infer-from-file-name' as const },
      { label: 'Keep unlabeled', description: 'no labels', id: 'keep-unlabeled' as const },
      { label: 'One fixed label', description: 'every sample gets the same label', id: 'fixed' as const },
    ],
    'How should samples be labeled?',
  );
  if (strategy.id === 'fixed') block.label = await input('label', { prompt: 'The label of every sample', validateInput: (v) => (v.trim() && !/[/\\]/.test(v) ? undefined : 'A plain name without / or \\.') });
  else block.labelStrategy = strategy.id;
  const category = await pick(
    'category',
    [
      { label: 'Split automatically', description: 'training/ and testing/ folders decide; other files 80/20 by a stable hash', id: 'split' as const },
      { label: 'Training', description: 'everything goes to training', id: 'training' as const },
      { label: 'Testing', description: 'everything goes to testing', id: 'testing' as const },
    ],
    'Where do samples go?',
  );
  block.category = category.id;
}

/** The reference trainer (train.py written next to the pipeline) or the user's own command. */
async function trainCommand(baseDir: string, svc: Services): Promise<string | undefined> {
  const how = await pick(
    'training',
    [
      { label: '$(beaker) Reference trainer', description: 'writes train.py here: PyTorch, MobileNetV3-Small, metrics and an int8 model', id: 'reference' as const },
      { label: '$(terminal) My own training command', description: 'any framework: DATASET_DIR, MODEL_DIR, METRICS_FILE… are set', id: 'own' as const },
    ],
    'How is the model trained?',
  );
  if (how.id === 'own') return input('training command', { prompt: 'Runs in the pipeline folder with DATASET_DIR, MODEL_DIR, METRICS_FILE and BUILD_MODEL_TYPE set', value: 'python3 train.py' });
  const r = (await core()).initTrainer({ dir: baseDir, noPretrained: !vscode.workspace.getConfiguration('dataPipelines').get<boolean>('trainer.pretrained', true) });
  svc.log.info(`[add data source] reference trainer: ${r.files.map((f) => `${f.written ? 'wrote' : 'kept'} ${f.path}`).join(', ')}; trainCommand ${r.command}`);
  for (const w of r.warnings) void vscode.window.showWarningMessage(w);
  return r.command;
}

async function postSyncActions(baseDir: string, svc: Services): Promise<ActionBlock | undefined> {
  const items = [
    { label: 'Refresh data explorer', description: 'rebuild info.labels and the dataset summary', id: 'refreshDataExplorer', picked: true },
    { label: 'Create a version', description: 'snapshot the dataset after each sync', id: 'createVersion', picked: false },
    { label: 'Retrain the model', description: 'run your training command', id: 'retrainModel', picked: false },
    { label: 'Build a deployment zip', description: 'needs retraining', id: 'buildBinary', picked: false },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${TITLE}: post-sync actions`, placeHolder: 'What runs after each sync? (none is fine)', canPickMany: true, ignoreFocusOut: true });
  if (!picked) throw new Cancelled();
  if (!picked.length) return undefined;
  const a: ActionBlock = { type: 'project-action' };
  const ids = new Set(picked.map((p) => p.id));
  if (ids.has('refreshDataExplorer')) a.refreshDataExplorer = true;
  if (ids.has('createVersion')) a.createVersion = true;
  if (ids.has('retrainModel') || ids.has('buildBinary')) {
    a.retrainModel = true;
    a.trainCommand = await trainCommand(baseDir, svc);
    if (!a.trainCommand) delete a.trainCommand;
  }
  if (ids.has('buildBinary')) a.buildBinary = 'zip';
  return a;
}

function uniqueName(wanted: string, taken: Set<string>): string {
  if (!taken.has(wanted)) return wanted;
  for (let i = 2; ; i++) if (!taken.has(`${wanted} ${i}`)) return `${wanted} ${i}`;
}

/** "Add data source…": Edge Impulse's flow as QuickPick/InputBox steps, ending in a pipeline step. */
export function registerAddDataSource(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.addDataSource', async (arg?: { newFile?: boolean }) => {
      try {
        const target = await targetFile(!!arg?.newFile);
        const baseDir = path.dirname(target.uri.fsPath);
        const kind = await pick(
          'storage',
          [
            { label: '$(cloud) Amazon S3', description: 'AWS S3 bucket', id: 's3' as Kind },
            { label: '$(server) S3-compatible', description: 'MinIO, Ceph, R2, B2, Wasabi, Scaleway…', id: 's3-compatible' as Kind },
            { label: '$(cloud) Google Cloud Storage', description: 'service account, Application Default Credentials or HMAC keys', id: 'gcs' as Kind },
            { label: '$(azure) Azure Blob Storage', description: 'container with an account key', id: 'azure' as Kind },
            { label: '$(folder) Local folder', description: 'a local or mounted folder', id: 'folder' as Kind },
            { label: '$(circle-slash) None', description: 'only post-sync actions', id: 'none' as Kind },
          ],
          'Where does the data live?',
        );
        const draft: Draft = { kind: kind.id === 'gcs' ? await gcsAccess() : kind.id };
        if (draft.kind !== 'none') {
          for (;;) {
            const got = await locationAndCredentials(draft.kind, baseDir, draft.block);
            draft.block = got.block;
            draft.secret = got.secret;
            const verdict = await verifyDraft(svc, target.uri, draft.block, draft.secret);
            if (verdict !== 'retry') break;
          }
          await labelsAndCategory(draft.block!);
        }
        draft.actions = await postSyncActions(baseDir, svc);

        const text = target.exists ? await pipelineText(target.uri) : '';
        const taken = new Set((target.exists ? outlinePipeline(text)?.steps ?? [] : []).map((s) => s.name));
        const steps: Step[] = [];
        if (draft.block) {
          const name = await input('step name', { value: uniqueName(`Fetch data from ${draft.block.path}`, taken), validateInput: (v) => (!v.trim() ? 'Give the step a name.' : taken.has(v.trim()) ? 'Another step has this name.' : undefined) });
          taken.add(name);
          steps.push({ name, builtinTransformationBlock: draft.block });
        }
        if (draft.actions) steps.push({ name: uniqueName('Post-sync actions', taken), builtinTransformationBlock: draft.actions });
        if (!steps.length) return undefined;

        if (draft.secret) await svc.storeSecret(draft.secret.name, draft.secret.value);
        if (!target.exists) {
          await vscode.workspace.fs.writeFile(target.uri, Buffer.from(newPipelineText(target.pipelineName ?? 'Import dataset', steps)));
        } else {
          const doc = await vscode.workspace.openTextDocument(target.uri);
          let current = doc.getText();
          const we = new vscode.WorkspaceEdit();
          // Apply step by step on the text, then replace the whole document once.
          for (const s of steps) current = applyTextEdits(current, addStepEdits(current, s));
          we.replace(target.uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), current);
          await vscode.workspace.applyEdit(we);
          await doc.save();
        }
        const doc = await vscode.workspace.openTextDocument(target.uri);
        // A pinned tab, not a preview one that the next opened file would replace.
        await vscode.window.showTextDocument(doc, { preview: false });
        svc.log.info(`[add data source] added ${steps.map((s) => `"${s.name}"`).join(' and ')} to ${target.uri.fsPath}`);
        void vscode.window.showInformationMessage(`Added ${steps.map((s) => `"${s.name}"`).join(' and ')} to ${path.basename(target.uri.fsPath)}.`, 'Preview', 'Run Pipeline').then((b) => {
          if (b === 'Preview') void vscode.commands.executeCommand('dataPipelines.previewPipeline', pipelineArg(target.uri));
          if (b === 'Run Pipeline') void vscode.commands.executeCommand('dataPipelines.runPipeline', pipelineArg(target.uri));
        });
        return target.uri;
      } catch (err) {
        if (err instanceof Cancelled) return undefined;
        svc.log.error(`[add data source] ${errorText(err)}`);
        void vscode.window.showErrorMessage(`Add data source failed: ${errorText(err)}`, 'Open Log').then((b) => b && svc.log.show(true));
        return undefined;
      }
    }),
  );
}
