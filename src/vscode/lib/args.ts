// The arguments commands receive, shared by the tree items (as the tree element, which VS Code
// passes to view/item/context commands, and in TreeItem.command.arguments), CodeLens and the
// commands' own executeCommand calls. Each command narrows with one guard per shape and falls back
// to a picker only when it got no argument it knows (the palette). No value import of vscode: the
// guards are unit-tested in plain Node.
import type * as vscode from 'vscode';
import type { RunRecord } from '../../core';

export type Trigger = 'codelens' | 'ui';

/** A pipeline file (Pipelines view file node, CodeLens at the top of the file). */
export interface PipelineArg {
  kind: 'pipeline';
  uri: vscode.Uri;
  trigger?: Trigger;
}

/** One step of a pipeline, by name (Pipelines view step node, CodeLens on a step). */
export interface StepArg {
  kind: 'step';
  uri: vscode.Uri;
  step: string;
  trigger?: Trigger;
}

/** One run record (Runs view, a source node's last sync, a run notification). */
export interface RunArg {
  kind: 'run';
  run: RunRecord;
}

/** One version createVersion kept (Pipelines view, under the pipeline's Versions). */
export interface VersionArg {
  kind: 'version';
  uri: vscode.Uri;
  datasetDir: string;
  id: string;
}

export type CommandArg = PipelineArg | StepArg | RunArg | VersionArg;

export const pipelineArg = (uri: vscode.Uri, trigger?: Trigger): PipelineArg => (trigger ? { kind: 'pipeline', uri, trigger } : { kind: 'pipeline', uri });
export const stepArg = (uri: vscode.Uri, step: string, trigger?: Trigger): StepArg => (trigger ? { kind: 'step', uri, step, trigger } : { kind: 'step', uri, step });
export const runArg = (run: RunRecord): RunArg => ({ kind: 'run', run });

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/**
 * A vscode.Uri, checked by shape so the guard runs without the vscode module. VS Code itself passes
 * one to editor/title and explorer commands (the resource).
 */
export function isUri(x: unknown): x is vscode.Uri {
  return isObject(x) && typeof x.scheme === 'string' && typeof x.path === 'string' && typeof x.fsPath === 'string' && typeof x.toString === 'function';
}

const isTrigger = (t: unknown): boolean => t === undefined || t === 'codelens' || t === 'ui';

export function isPipelineArg(x: unknown): x is PipelineArg {
  return isObject(x) && x.kind === 'pipeline' && isUri(x.uri) && isTrigger(x.trigger);
}

export function isStepArg(x: unknown): x is StepArg {
  return isObject(x) && x.kind === 'step' && isUri(x.uri) && typeof x.step === 'string' && x.step !== '' && isTrigger(x.trigger);
}

export function isRunArg(x: unknown): x is RunArg {
  return isObject(x) && x.kind === 'run' && isObject(x.run) && typeof x.run.id === 'string' && typeof x.run.pipelineFile === 'string';
}

export function isVersionArg(x: unknown): x is VersionArg {
  return isObject(x) && x.kind === 'version' && isUri(x.uri) && typeof x.datasetDir === 'string' && typeof x.id === 'string' && /^v\d+$/.test(x.id);
}

/** The pipeline file an argument names: a PipelineArg, a StepArg or a bare Uri (menus). */
export function uriOfArg(x: unknown): vscode.Uri | undefined {
  if (isPipelineArg(x) || isStepArg(x) || isVersionArg(x)) return x.uri;
  if (isUri(x) && x.path.endsWith('.pipeline.json')) return x;
  return undefined;
}

export function triggerOfArg(x: unknown): Trigger {
  return (isPipelineArg(x) || isStepArg(x)) && x.trigger === 'codelens' ? 'codelens' : 'ui';
}
