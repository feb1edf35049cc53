// Step 1 of the contract: which keys may become files at all.

export type KeyVerdict =
  | { kind: 'ok'; segments: string[] }
  | { kind: 'folder-marker' }
  | { kind: 'hidden'; reason: string }
  | { kind: 'rejected'; reason: string };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Any character the checks below look at closely: most keys have none, and take one test. */
// eslint-disable-next-line no-control-regex
const SUSPECT = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff\\]/;

/** Judges a key relative to the step's prefix. Never throws. */
export function judgeKey(rel: string): KeyVerdict {
  if (rel === '') return { kind: 'folder-marker' };
  if (rel.startsWith('/')) return { kind: 'rejected', reason: 'key starts with "/" (an absolute path)' };
  if (SUSPECT.test(rel)) {
    if (rel.includes('\\')) return { kind: 'rejected', reason: 'key contains a backslash' };
    if (CONTROL.test(rel)) return { kind: 'rejected', reason: rel.includes('\0') ? 'key contains a NUL character' : 'key contains a control character' };
    if (LONE_SURROGATE.test(rel)) return { kind: 'rejected', reason: 'key is not valid Unicode' };
  }
  if (rel.endsWith('/')) return { kind: 'folder-marker' };
  const segments = rel.split('/');
  for (const s of segments) {
    if (s === '') return { kind: 'rejected', reason: 'key has an empty path segment ("//")' };
    if (s === '.' || s === '..') return { kind: 'rejected', reason: `key has a "${s}" path segment` };
  }
  const hidden = segments.find((s) => s.startsWith('.'));
  if (hidden !== undefined) return { kind: 'hidden', reason: `hidden ${hidden === segments[segments.length - 1] ? 'file' : 'folder'} "${hidden}"` };
  return { kind: 'ok', segments };
}
