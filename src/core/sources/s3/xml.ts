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
  lastModified?: string;
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

export function parseListObjectsV2(xml: string): ListPage {
  if (xml.indexOf('<ListBucketResult') < 0) throw new MalformedResponseError(`not a ListObjectsV2 result: ${xml.slice(0, 120)}`);
  // The page's own fields come after the last </Contents> on AWS but first on some stores;
  // look for them outside every <Contents> block.
  const objects: ListedObject[] = [];
  const urlEncoded = /<EncodingType>\s*url\s*<\/EncodingType>/i.test(xml);
  const decode = urlEncoded ? decodeUrlKey : (s: string) => s;
  let pos = 0;
  let outside = '';
  for (;;) {
    const start = xml.indexOf('<Contents>', pos);
    if (start < 0) {
      outside += xml.slice(pos);
      break;
    }
    outside += xml.slice(pos, start);
    const end = xml.indexOf('</Contents>', start);
    if (end < 0) throw new MalformedResponseError('unterminated <Contents> in a listing (truncated response?)');
    const key = tagText(xml, 'Key', start, end);
    const size = tagText(xml, 'Size', start, end);
    if (key === undefined || size === undefined) throw new MalformedResponseError('a listing entry without Key or Size');
    const n = Number(size);
    if (!Number.isSafeInteger(n) || n < 0) throw new MalformedResponseError(`a listing entry with an invalid size ${JSON.stringify(size)}`);
    objects.push({ key: decode(key), size: n, etag: (tagText(xml, 'ETag', start, end) ?? '').replace(/"/g, ''), lastModified: tagText(xml, 'LastModified', start, end) });
    pos = end + '</Contents>'.length;
  }
  const prefixes: string[] = [];
  let p = 0;
  for (;;) {
    const start = outside.indexOf('<CommonPrefixes>', p);
    if (start < 0) break;
    const end = outside.indexOf('</CommonPrefixes>', start);
    if (end < 0) break;
    const pre = tagText(outside, 'Prefix', start, end);
    if (pre !== undefined) prefixes.push(decode(pre));
    p = end + 1;
  }
  const truncated = /^true$/i.test((tagText(outside, 'IsTruncated') ?? 'false').trim());
  const nextToken = tagText(outside, 'NextContinuationToken');
  const keyCount = tagText(outside, 'KeyCount');
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
