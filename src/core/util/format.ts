// Numbers for people, shared by the CLI and the editor.

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** Makes text from outside (keys, step names, server messages) safe to print to a terminal:
 * C0/C1 control characters, DEL and Unicode bidi overrides become visible escapes. */
export function escapeControl(text: string): string {
// eslint-disable-next-line no-control-regex
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * For text that keeps its lines (tables, multi-line messages): every control character except the
 * newline and the tab escaped as in escapeControl. Fields that must stay on one line (keys, labels,
 * step names) go through escapeControl first.
 */
export function escapeHuman(text: string): string {
  // eslint-disable-next-line no-control-regex
  return String(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => escapeControl(c));
}

/** A multi-line log message as one entry: continuation lines indented, so none can pass for a line of its own. */
export function logEntry(text: string): string {
  return escapeHuman(text).replace(/\n/g, '\n    ');
}

/**
 * Compares by Unicode code point, as Python's sorted() and every tool that lists class folders do
 * (torchvision, Keras, Hugging Face). JavaScript's `<` compares UTF-16 units, which orders
 * characters beyond U+FFFF (emoji) before U+E000–U+FFFF (fullwidth letters).
 */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
