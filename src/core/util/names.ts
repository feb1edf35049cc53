// Names as bytes: file names that are not UTF-8 (folder sources) and keys listed URL-encoded (S3).

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A file name as bytes, decoded. A name that is not UTF-8 gets a key that no UTF-8 name can have
 * (each bad byte as a lone surrogate U+DC80+byte, Python's surrogateescape: stable and unique) and
 * a readable name for the dataset (each bad byte as %XX; the planner keeps it apart from a real
 * name that reads the same).
 */
export function decodeName(raw: Buffer): { key: string; rel: string; escaped: boolean } {
  try {
    const s = UTF8.decode(raw);
    return { key: s, rel: s, escaped: false };
  } catch {
    /* escaped below */
  }
  let key = '';
  let rel = '';
  let i = 0;
  while (i < raw.length) {
    const n = validSequenceLength(raw, i);
    if (n) {
      const ch = raw.subarray(i, i + n).toString('utf8');
      key += ch;
      rel += ch;
      i += n;
    } else {
      key += String.fromCharCode(0xdc00 + raw[i]); // bytes 0x80-0xFF: U+DC80-U+DCFF
      rel += `%${raw[i].toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    }
  }
  return { key, rel, escaped: true };
}

/** Length of the valid UTF-8 sequence at `i`, or 0. */
function validSequenceLength(b: Buffer, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!n || i + n > b.length) return 0;
  try {
    UTF8.decode(b.subarray(i, i + n));
    return n;
  } catch {
    return 0;
  }
}
