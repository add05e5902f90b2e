/**
 * {{pinwheel.NAME}} placeholders in blueprint files. Anything else in double braces (Particle's
 * own mustache variables such as {{t}} or {{PARTICLE_PUBLISHED_AT}}) is left as it is.
 * Values are escaped for the file they land in: JSON strings in .json, C strings in firmware.
 */
export const PLACEHOLDERS = [
  'serverUrl',
  'templateId',
  'templateName',
  'deviceId',
  'deviceName',
  'deviceToken',
  'blueprintName',
] as const;
export type PlaceholderName = (typeof PLACEHOLDERS)[number];
export type RenderContext = Record<PlaceholderName, string>;

const PLACEHOLDER_RE = /\{\{\s*pinwheel\.([A-Za-z]+(?::[^{}\s]+)?)\s*\}\}/g;

/** Names of the pinwheel placeholders in a text ("deviceToken", "include:file.json", ...). */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!);
}

function escaperFor(file: string): (v: string) => string {
  const ext = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'json') return (v) => JSON.stringify(v).slice(1, -1);
  if (['ino', 'c', 'cpp', 'h', 'hpp'].includes(ext)) {
    return (v) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, ' ').replace(/\*\//g, '* /');
  }
  return (v) => v;
}

/**
 * Renders a file: placeholders become values, {{pinwheel.include:other.file}} becomes that
 * file rendered (as is, for tutorials that show a webhook JSON).
 */
export function renderFile(
  file: string,
  text: string,
  ctx: RenderContext,
  readOther: (file: string) => string,
  depth = 0,
): string {
  const esc = escaperFor(file);
  return text.replace(PLACEHOLDER_RE, (whole, name: string) => {
    const include = /^include:(.+)$/.exec(name)?.[1];
    if (include !== undefined) {
      if (depth > 2) throw new Error(`${file}: includes nest too deep`);
      return renderFile(include, readOther(include), ctx, readOther, depth + 1).trimEnd();
    }
    return Object.hasOwn(ctx, name) ? esc(ctx[name as PlaceholderName]) : whole;
  });
}
