// Globs for include/exclude: * (within a folder), ** (across folders), ?, {a,b}, [abc], [!abc].
// Matching is picomatch's. Keys are '/'-separated on every platform; dot files match like any
// other; a leading ! and ( ) | are plain characters (keys such as "photo (1).jpg" are common), as
// is a backslash.
import picomatch from 'picomatch';

const OPTIONS: picomatch.PicomatchOptions = {
  dot: true, // * and ** match names starting with a dot
  windows: false, // '/' is the only separator, also on Windows
  posix: true, // [!abc] negates, [[:digit:]] classes
  literalBrackets: false, // [abc] is a class, never the literal text "[abc]"
  strictSlashes: true, // *.jpg does not match "a.jpg/"
  nonegate: true, // a leading ! is a character, not "everything but"
  noextglob: true, // +(a) @(a) !(a) are characters
  debug: true, // an unbalanced glob throws instead of silently matching nothing
};

/** Globs have no groups or alternation of their own: ( ) | and \ stand for themselves. */
const literal = (glob: string): string => glob.replace(/[\\()|]/g, '\\$&');

export function globToRegExp(glob: string): RegExp {
  try {
    return picomatch.makeRe(literal(glob), OPTIONS);
  } catch (e) {
    throw new Error(`glob "${glob}" is not valid: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export type KeyFilter = (rel: string) => string | undefined;

/** Returns a function giving the reason a key is filtered out, or undefined when it is kept. */
export function makeKeyFilter(include?: string[], exclude?: string[]): KeyFilter {
  const inc = (include ?? []).map((g) => ({ g, re: globToRegExp(g) }));
  const exc = (exclude ?? []).map((g) => ({ g, re: globToRegExp(g) }));
  if (!inc.length && !exc.length) return () => undefined;
  return (rel) => {
    if (inc.length && !inc.some((x) => x.re.test(rel))) return `not matched by include (${include!.join(', ')})`;
    const hit = exc.find((x) => x.re.test(rel));
    return hit ? `excluded by "${hit.g}"` : undefined;
  };
}
