/** Set on a parsed query whose text was not valid percent-encoded UTF-8. */
export const MALFORMED_QUERY = Symbol('malformedQuery');

export type Query = Record<string, string | string[]> & { [MALFORMED_QUERY]?: true };

function decode(part: string): string | undefined {
  const text = part.includes('+') ? part.replace(/\+/g, ' ') : part;
  if (!text.includes('%')) return text;
  try {
    // decodeURIComponent throws on sequences that are not valid UTF-8.
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Query-string parser for every route: repeated keys become arrays in order (Blynk sends
 * `value=lon&value=lat`), bare keys (`&v1`) become "", and text that is not valid UTF-8 marks
 * the whole query malformed instead of being silently replaced.
 */
export function parseQuery(qs: string): Query {
  const out: Query = {};
  if (qs.length === 0) return out;
  for (const pair of qs.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const k = decode(eq === -1 ? pair : pair.slice(0, eq));
    const v = eq === -1 ? '' : decode(pair.slice(eq + 1));
    if (k === undefined || v === undefined) {
      Object.defineProperty(out, MALFORMED_QUERY, { value: true, enumerable: false });
      continue;
    }
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    const cur = out[k];
    if (cur === undefined) out[k] = v;
    else if (Array.isArray(cur)) cur.push(v);
    else out[k] = [cur, v];
  }
  return out;
}

export function isMalformed(q: unknown): boolean {
  return typeof q === 'object' && q !== null && (q as Query)[MALFORMED_QUERY] === true;
}
