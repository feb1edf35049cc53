// Steps 3 and 4 of the contract: unlabeled/ and the label strategies.
import type { LabelStrategy } from '../types';

export interface LabelResult {
  label: string | null;
  /** Why a sample that could have had a label has none (shown as a warning). */
  warning?: string;
}

export function labelFor(rest: string[], strategy: LabelStrategy, fixedLabel?: string): LabelResult {
  const fileName = rest[rest.length - 1];
  if (rest.length > 1 && rest[0] === 'unlabeled') return { label: null };
  if (fixedLabel) return { label: fixedLabel };
  switch (strategy) {
    case 'keep-unlabeled':
      return { label: null };
    case 'infer-from-file-name': {
      const dot = fileName.indexOf('.');
      const label = dot === -1 ? fileName : fileName.slice(0, dot);
      if (label === '') return { label: null, warning: 'file name starts with "." so no label can be taken from it' };
      return { label };
    }
    case 'infer-from-folder-name':
    default:
      if (rest.length < 2) return { label: null, warning: 'file at the root of the path has no folder to take a label from' };
      return { label: rest[0] };
  }
}
