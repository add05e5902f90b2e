/** Virtual pins: V0..V255, case-insensitive on input, upper-case `V` on output. */
export const MAX_PIN = 255;
const PIN_RE = /^[vV](\d{1,3})$/;

/** Returns the canonical pin ("V7") or undefined when the text is not a valid pin. */
export function parsePin(text: string): string | undefined {
  const m = PIN_RE.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n > MAX_PIN || (m[1]!.length > 1 && m[1]!.startsWith('0'))) return undefined;
  return `V${n}`;
}
