import { describe, expect, it } from 'vitest';
import {
  headerSafe,
  placeholdersIn,
  render,
  renderFormText,
  renderJsonText,
  renderJsonValue,
  renderUrl,
} from '../src/webhooks/placeholders.ts';

const nasty = 'He said "hi" & left = 5 ünï 🚀 \\ end\nline';

describe('webhook placeholders', () => {
  it('finds the placeholders a text uses, indexed ones included', () => {
    expect([...placeholdersIn('{device_pinValue} {device_pinValue[2]} {device_metadata_Owner Name} {"x":1}')]).toEqual([
      'device_pinValue',
      'device_pinValue[2]',
      'device_metadata_Owner Name',
    ]);
  });

  it('leaves unknown placeholders as written and picks items of a multi-value string', () => {
    const vars = { device_pinValue: 'a\0b c\0d' };
    expect(render('{device_pinValue[1]}|{device_pinValue[0]}|{device_pinValue[7]}|{nope}|{device_id}', vars)).toBe(
      'b c|a||{nope}|{device_id}',
    );
  });

  it('escapes for a JSON string, and quotes non-numbers outside strings', () => {
    const vars = { v: nasty, n: '42.5', s: 'on' };
    const out = renderJsonText('{"a":"{v}","b":{n},"c":{s},"d":"x{n}y","e":"{missing}","f":"\\"{s}\\""}', vars);
    expect(JSON.parse(out)).toEqual({ a: nasty, b: 42.5, c: 'on', d: 'x42.5y', e: '{missing}', f: '"on"' });
    expect(JSON.stringify(renderJsonValue({ a: '{v}', b: ['{s}', 3] }, vars))).toBe(
      JSON.stringify({ a: nasty, b: ['on', 3] }),
    );
  });

  it('escapes for a URL component, a form field and a header', () => {
    const vars = { v: nasty };
    const url = new URL(renderUrl('http://127.0.0.1/x/{v}?q={v}', vars));
    expect(decodeURIComponent(url.pathname.slice(3))).toBe(nasty);
    expect(url.searchParams.get('q')).toBe(nasty);
    expect(new URLSearchParams(renderFormText('arg={v}&k=1', vars)).get('arg')).toBe(nasty);
    const h = headerSafe(render('T {v}', vars));
    expect(h).toMatch(/^[\x20-\x7e]*$/);
    expect(() => new Headers({ x: h })).not.toThrow();
  });
});
