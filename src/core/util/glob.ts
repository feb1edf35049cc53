// Globs for include/exclude: * (within a folder), ** (across folders), ?, {a,b}, [abc].

export function globToRegExp(glob: string): RegExp {
  let re = '';
  let i = 0;
  let braces = 0;
  while (i < glob.length) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 3 : 2;
        continue;
      }
      re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end > i + 1) {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += '[' + (body[0] === '!' ? '^' + body.slice(1) : body) + ']';
        i = end + 1;
        continue;
      }
      re += '\\[';
    } else re += c.replace(/[.+^$()|\\\]}]/g, '\\$&');
    i++;
  }
  return new RegExp('^' + re + '$', 'u');
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
