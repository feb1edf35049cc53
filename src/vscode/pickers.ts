// Shared argument handling for commands invoked from CodeLens, the palette, editor titles and trees.
import * as vscode from 'vscode';
import { outlinePipeline, type StepLocation } from './lib/pipelineDoc';
import { pickPipelineUri, pipelineText } from './services';

/** A tree node (Pipelines view) carries its uri and maybe a step. */
interface NodeArg {
  uri?: vscode.Uri;
  step?: StepLocation;
}

export async function resolvePipelineAndStep(
  a: unknown,
  b: unknown,
  want: (s: StepLocation) => boolean,
  placeHolder: string,
): Promise<{ uri: vscode.Uri; step: string } | undefined> {
  const node = a as NodeArg | undefined;
  const uri = await pickPipelineUri(a);
  if (!uri) return undefined;
  if (typeof b === 'string') return { uri, step: b };
  if (node?.step && typeof node.step.name === 'string') return { uri, step: node.step.name };
  const outline = outlinePipeline(await pipelineText(uri));
  const steps = (outline?.steps ?? []).filter(want);
  if (steps.length === 0) {
    void vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(uri)} has no step for this. ${placeHolder}`);
    return undefined;
  }
  if (steps.length === 1) return { uri, step: steps[0].name };
  const pick = await vscode.window.showQuickPick(
    steps.map((s) => ({ label: s.name, description: s.type, detail: s.sourcePath, step: s.name })),
    { placeHolder },
  );
  return pick ? { uri, step: pick.step } : undefined;
}

export function triggerOf(arg: unknown): 'codelens' | 'ui' {
  return arg === 'codelens' ? 'codelens' : 'ui';
}
