// Argument handling for commands invoked from CodeLens, the palette, editor titles and trees. The
// shapes are in ./lib/args; a picker only runs when the command got no argument (the palette).
import * as vscode from 'vscode';
import { isStepArg, uriOfArg } from './lib/args';
import { outlinePipeline, type StepLocation } from './lib/pipelineDoc';
import { pickPipelineUri, pipelineText } from './services';

/** The pipeline file of a PipelineArg, StepArg or Uri (menus), else the active editor or a pick. */
export async function resolvePipeline(arg: unknown): Promise<vscode.Uri | undefined> {
  return uriOfArg(arg) ?? pickPipelineUri();
}

/** A StepArg names the step; a PipelineArg or Uri names the file and the step is picked among `want`. */
export async function resolvePipelineAndStep(arg: unknown, want: (s: StepLocation) => boolean, placeHolder: string): Promise<{ uri: vscode.Uri; step: string } | undefined> {
  if (isStepArg(arg)) return { uri: arg.uri, step: arg.step };
  const uri = await resolvePipeline(arg);
  if (!uri) return undefined;
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
