// The few S3 XML documents we read (ListObjectsV2, Error), parsed with indexOf: the shapes are
// fixed and flat, and a general XML parser costs more than the listing on a 100k-key bucket.
import { decodeName } from '../../util/names';

const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g;

export function decodeXmlText(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY, (_m, e: string) => {
    switch (e) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

/** Text of the first `<tag>…</tag>` between `from` and `to`, entity-decoded; undefined if absent. */
export function tagText(xml: string, tag: string, from = 0, to = xml.length): string | undefined {
  const open = `<${tag}>`;
  const start = xml.indexOf(open, from);
  if (start < 0 || start >= to) {
    // An empty element (<Prefix/>) is an empty string.
    const empty = xml.indexOf(`<${tag}/>`, from);
    return empty >= 0 && empty < to ? '' : undefined;
  }
  const end = xml.indexOf(`</${tag}>`, start + open.length);
  if (end < 0 || end > to) return undefined;
  return decodeXmlText(xml.slice(start + open.length, end));
}

/**
 * Decodes a key from a listing made with `encoding-type=url`. S3 form-encodes it (a space is `+`,
 * a plus is `%2B`); bytes that are not UTF-8 become U+FFFD, so the safety check rejects the key
 * instead of the run failing.
 */
export function decodeUrlKey(s: string): string {
  const plain = s.replace(/\+/g, ' ');
  if (plain.indexOf('%') < 0) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < plain.length; i++) {
      const c = plain[i];
      if (c === '%' && /^[0-9a-fA-F]{2}$/.test(plain.slice(i + 1, i + 3))) {
        bytes.push(parseInt(plain.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(...Buffer.from(c, 'utf8'));
    }
    // Not UTF-8: a key no UTF-8 key can equal (each bad byte as a lone surrogate), so two such keys
    // never merge into one; the planner rejects it as not valid Unicode, and says so.
    return decodeName(Buffer.from(bytes)).key;
  }
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
}

export interface ListPage {
  objects: ListedObject[];
  /** Folders one level down, when listed with a delimiter. */
  prefixes: string[];
  truncated: boolean;
  nextToken?: string;
  /** The server honoured encoding-type=url (keys came URL-encoded). */
  urlEncoded: boolean;
  keyCount?: number;
}

export class MalformedResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedResponseError';
  }
}

/** A whole number written in ASCII digits between two offsets, or NaN. */
function digits(buf: Buffer, a: number, b: number): number {
  if (a >= b || b - a > 15) return NaN;
  let n = 0;
  for (let i = a; i < b; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Where the text of the first `<tag>…</tag>` in [from, to) lies, searched in the page's latin1
 * text (one character per byte, so offsets are the buffer's): undefined if absent. `<tag/>` is empty.
 */
function tagRange(t: string, tag: string, from: number, to: number): [number, number] | undefined {
  const open = `<${tag}>`;
  const start = t.indexOf(open, from);
  if (start < 0 || start >= to) {
    const empty = t.indexOf(`<${tag}/>`, from);
    return empty >= 0 && empty < to ? [empty, empty] : undefined;
  }
  const end = t.indexOf(`</${tag}>`, start + open.length);
  return end < 0 || end > to ? undefined : [start + open.length, end];
}

/** The ETag between offsets, without its quotes (written as &quot; or as "). */
function etagAt(buf: Buffer, t: string, r: [number, number] | undefined): string {
  if (!r) return '';
  let [a, b] = r;
  if (b - a >= 12 && t.startsWith('&quot;', a) && t.startsWith('&quot;', b - 6)) [a, b] = [a + 6, b - 6];
  const text = buf.toString('utf8', a, b);
  return (text.indexOf('&') >= 0 ? decodeXmlText(text) : text).replace(/"/g, '');
}

/**
 * Parses a ListObjectsV2 page. Tags are found in the page's latin1 text (String indexOf: no call
 * into C++ per search, a third of the parse of a cold process), and each field is decoded from the
 * page's bytes on its own: a key is then a string of its own, not a slice that keeps the whole
 * page's text alive (20 MB per 100,000 keys held to the end of a run).
 */
export function parseListObjectsV2(body: string | Buffer): ListPage {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const t = buf.toString('latin1');
  if (t.indexOf('<ListBucketResult') < 0) throw new MalformedResponseError(`not a ListObjectsV2 result: ${buf.toString('utf8', 0, 120)}`);
  // The page's own fields come after the last </Contents> on AWS but first on some stores;
  // look for them outside every <Contents> block.
  const objects: ListedObject[] = [];
  // Keys are escaped (< is &lt;), so any <EncodingType> is the element itself, wherever the store puts it.
  const enc = t.indexOf('<EncodingType>');
  const urlEncoded = enc >= 0 && /^<EncodingType>\s*url\s*<\/EncodingType>/i.test(t.slice(enc, enc + 64));
  const decode = urlEncoded ? decodeUrlKey : (s: string) => s;
  let pos = 0;
  // A store that gives no ETag at all: found absent once, not searched for again (each search would scan the rest of the page).
  let etags = true;
  const outside: string[] = [];
  for (;;) {
    const start = t.indexOf('<Contents>', pos);
    if (start < 0) {
      outside.push(buf.toString('utf8', pos));
      break;
    }
    if (start > pos) outside.push(buf.toString('utf8', pos, start));
    const end = t.indexOf('</Contents>', start);
    if (end < 0) throw new MalformedResponseError('unterminated <Contents> in a listing (truncated response?)');
    const keyAt = tagRange(t, 'Key', start, end);
    const sizeAt = tagRange(t, 'Size', start, end);
    if (keyAt === undefined || sizeAt === undefined) throw new MalformedResponseError('a listing entry without Key or Size');
    const key = decodeXmlText(buf.toString('utf8', keyAt[0], keyAt[1]));
    let n = digits(buf, sizeAt[0], sizeAt[1]);
    if (Number.isNaN(n)) n = Number(t.slice(sizeAt[0], sizeAt[1]));
    if (!Number.isSafeInteger(n) || n < 0) throw new MalformedResponseError(`a listing entry with an invalid size ${JSON.stringify(buf.toString('utf8', sizeAt[0], sizeAt[1]))}`);
    let etagAtRange: [number, number] | undefined;
    if (etags) {
      etagAtRange = tagRange(t, 'ETag', start, end);
      if (!etagAtRange && t.indexOf('<ETag', start) < 0) etags = false;
    }
    // LastModified is not read: nothing uses it, and it is a quarter of the parsing.
    objects.push({ key: decode(key), size: n, etag: etagAt(buf, t, etagAtRange) });
    pos = end + '</Contents>'.length;
  }
  const rest = outside.join('');
  const prefixes: string[] = [];
  let p = 0;
  for (;;) {
    const start = rest.indexOf('<CommonPrefixes>', p);
    if (start < 0) break;
    const end = rest.indexOf('</CommonPrefixes>', start);
    if (end < 0) break;
    const pre = tagText(rest, 'Prefix', start, end);
    if (pre !== undefined) prefixes.push(decode(pre));
    p = end + 1;
  }
  const truncated = /^true$/i.test((tagText(rest, 'IsTruncated') ?? 'false').trim());
  const nextToken = tagText(rest, 'NextContinuationToken');
  const keyCount = tagText(rest, 'KeyCount');
  return { objects, prefixes, truncated, nextToken: nextToken || undefined, urlEncoded, keyCount: keyCount === undefined ? undefined : Number(keyCount) };
}

export interface S3ErrorBody {
  code?: string;
  message?: string;
  region?: string;
  endpoint?: string;
  requestId?: string;
}

export function parseErrorXml(xml: string): S3ErrorBody {
  if (xml.indexOf('<Error') < 0) return {};
  return { code: tagText(xml, 'Code'), message: tagText(xml, 'Message'), region: tagText(xml, 'Region'), endpoint: tagText(xml, 'Endpoint'), requestId: tagText(xml, 'RequestId') };
}
