/**
 * Blynk webhook placeholders (specs/blynk.md §8): `{device_pinValue}`, `{device_pinValue[1]}`,
 * `{device_metadata_Owner}`... Each is replaced by its value escaped for where it lands: a URL
 * component, a form field, a JSON string (or a JSON value outside quotes), a header, plain
 * text. A placeholder with no value stays as written.
 */

/** `{name}` or `{name[N]}`; names are letters, digits, `_` (and spaces in metafield names). */
const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_ ]*?(?:\[\d{1,3}\])?)\}/g;

const PLACEHOLDER_HERE = new RegExp(PLACEHOLDER.source, 'y');

export type Vars = Record<string, string>;

/** The placeholder names a piece of text refers to (`device_pinValue[2]` included as written). */
export function placeholdersIn(text: string, into = new Set<string>()): Set<string> {
  for (const m of text.matchAll(PLACEHOLDER)) into.add(m[1]!);
  return into;
}

/** The value of one placeholder, or undefined (then it stays as written). */
export function lookup(vars: Vars, name: string): string | undefined {
  if (Object.hasOwn(vars, name)) return vars[name];
  const m = /^(.*)\[(\d+)\]$/.exec(name);
  if (m && Object.hasOwn(vars, m[1]!)) {
    // N-th item (from 0) of a multi-value string: items are separated by NUL.
    return vars[m[1]!]!.split('\0')[Number(m[2])] ?? '';
  }
  return undefined;
}

export function render(text: string, vars: Vars, escapeValue: (v: string) => string = (v) => v): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const v = lookup(vars, name);
    return v === undefined ? whole : escapeValue(v);
  });
}

/** For a URL written by the user: values become URL components. */
export function renderUrl(text: string, vars: Vars): string {
  return render(text, vars, encodeURIComponent);
}

/** For a form body written as text (`a={x}&b=2`): values become form-encoded components. */
export function renderFormText(text: string, vars: Vars): string {
  return render(text, vars, (v) => new URLSearchParams({ v }).toString().slice(2));
}

/** For a header value: no line breaks or control characters; non-ASCII percent-encoded. */
export function headerSafe(v: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return v.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[^\u0020-\u007e]/gu, (c) => encodeURIComponent(c));
}

export function renderHeader(text: string, vars: Vars): string {
  return headerSafe(render(text, vars));
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * For a JSON body written as text: a placeholder inside a string literal gets the value's
 * JSON string escaping (without quotes); outside a string it becomes a JSON value (numbers
 * as they are, anything else as a quoted string), so the result stays valid JSON.
 */
export function renderJsonText(text: string, vars: Vars): string {
  let out = '';
  let inString = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '{') {
      PLACEHOLDER_HERE.lastIndex = i;
      const m = PLACEHOLDER_HERE.exec(text);
      if (m) {
        const v = lookup(vars, m[1]!);
        if (v === undefined) out += m[0];
        else if (inString) out += JSON.stringify(v).slice(1, -1);
        else out += JSON_NUMBER.test(v) ? v : JSON.stringify(v);
        i += m[0].length;
        continue;
      }
    }
    if (inString && c === '\\') {
      out += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '"') inString = !inString;
    out += c;
    i++;
  }
  return out;
}

/** For a JSON body given as a structure: strings are rendered, then the whole is serialised. */
export function renderJsonValue(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') return render(value, vars);
  if (Array.isArray(value)) return value.map((v) => renderJsonValue(v, vars));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[render(k, vars)] = renderJsonValue(v, vars);
    return out;
  }
  return value;
}
