import { describe, expect, it } from 'vitest';
import type { Datastream } from '../src/domain/datastream.ts';
import type { TemplateModel } from '../src/domain/model.ts';
import { functionArg, functionFor, mapEvent, parseEnvelope } from '../src/integrations/particle/event-mapper.ts';
import { type SseMessage, SseParser } from '../src/integrations/particle/sse.ts';

/** specs/particle.md §2.4: the wire format of Particle's event stream. */
describe('the Server-Sent Events parser', () => {
  const parse = (chunks: string[]) => {
    const out: SseMessage[] = [];
    const p = new SseParser((m) => out.push(m));
    for (const c of chunks) p.push(c);
    return out;
  };
  const frame =
    'event: temp\ndata: {"data":"21.5","ttl":60,"published_at":"2024-01-01T00:00:00.000Z","coreid":"0123456789abcdef01234567"}\n\n';

  it('reads the :ok comment, an event and keep-alives', () => {
    const out = parse([`:ok\n\n${frame}\n\n:keepalive\n\n`]);
    expect(out).toEqual([
      {
        event: 'temp',
        data: '{"data":"21.5","ttl":60,"published_at":"2024-01-01T00:00:00.000Z","coreid":"0123456789abcdef01234567"}',
        id: undefined,
      },
    ]);
  });

  it('survives chunks split anywhere, CRLF and CR line ends, and joins data lines', () => {
    const text = `:ok\r\n\r\n${frame}event: b\rdata: one\rdata:two\r\r`;
    const whole = parse([text]);
    for (let i = 1; i < text.length; i++) {
      expect(parse([text.slice(0, i), text.slice(i)])).toEqual(whole);
    }
    expect(parse(text.split(''))).toEqual(whole);
    expect(whole.map((m) => [m.event, m.data])).toEqual([
      ['temp', expect.stringContaining('"coreid"')],
      ['b', 'one\ntwo'],
    ]);
  });

  it('dispatches nothing without a data line, and names unnamed events "message"', () => {
    expect(parse(['event: x\n\n', 'data: 1\n\n'])).toEqual([{ event: 'message', data: '1', id: undefined }]);
    // An unterminated event is not dispatched.
    expect(parse(['event: x\ndata: 1\n'])).toEqual([]);
  });
});

describe('the event mapper', () => {
  const ds = (id: number, name: string, pin: string, type: Datastream['type']): Datastream => ({
    id,
    templateId: 'T',
    name,
    pin,
    type,
    min: null,
    max: null,
    decimals: null,
    units: null,
    defaultValue: null,
    saveRaw: true,
    syncOnConnect: false,
    options: null,
    fallback: null,
    color: null,
  });
  const list = [ds(1, 'temp', 'V1', 'double'), ds(2, 'led', 'V16', 'integer'), ds(3, 'where', 'V3', 'location')];
  const model = {
    datastreams: list,
    byPin: new Map(list.map((d) => [d.pin, d])),
    byName: new Map(list.map((d) => [d.name, d])),
    byId: new Map(list.map((d) => [d.id, d])),
    metafields: [],
    events: [],
  } as unknown as TemplateModel;
  const ev = (name: string, data: string) => ({ name, data, publishedAt: 1000, coreid: 'abc' });

  it('reads the envelope: published_at is the time, a future time becomes now', () => {
    const now = Date.parse('2024-01-01T00:00:10Z');
    expect(
      parseEnvelope('x', '{"data":"1","ttl":"60","published_at":"2024-01-01T00:00:00.123Z","coreid":"c"}', now),
    ).toEqual({ name: 'x', data: '1', publishedAt: Date.parse('2024-01-01T00:00:00.123Z'), coreid: 'c' });
    expect(
      parseEnvelope('x', '{"data":"1","published_at":"2030-01-01T00:00:00Z","coreid":"c"}', now)?.publishedAt,
    ).toBe(now);
    expect(parseEnvelope('x', 'not json', now)).toBeUndefined();
    expect(parseEnvelope('x', '{"data":"1"}', now)).toBeUndefined();
  });

  it('maps JSON keys by name and pin, ignores t, infers a location, reports the rest', () => {
    const m = mapEvent(model, ev('blynk_https_get', '{"t":"TOKEN","temp":"21.5","v16":"1","lat":1,"lon":2,"x":3}'));
    expect(m.kind).toBe('json');
    expect(m.values.map((v) => [v.datastream.pin, v.raw, v.ts])).toEqual([
      ['V1', '21.5', 1000],
      ['V16', '1', 1000],
      ['V3', [2, 1], 1000],
    ]);
    expect(m.unmatched).toEqual([{ key: 'x', value: 3 }]);
  });

  it('a plain value sets the datastream named like the event; other plain data is ignored', () => {
    expect(mapEvent(model, ev('temp', ' 21.5 ')).values.map((v) => [v.datastream.pin, v.raw])).toEqual([
      ['V1', '21.5'],
    ]);
    expect(mapEvent(model, ev('hello', 'not json {'))).toMatchObject({ kind: 'none', values: [] });
    expect(mapEvent(model, ev('temp', ''))).toMatchObject({ kind: 'none', values: [] });
  });

  it('finds a function by pin (any case) or name and renders the argument', () => {
    expect(functionFor({ v16: 'blynk_led' }, list[1]!)).toBe('blynk_led');
    expect(functionFor({ led: 'x' }, list[1]!)).toBe('x');
    expect(functionFor({ V1: 'x' }, list[1]!)).toBeUndefined();
    expect(functionArg(1)).toBe('1');
    expect(functionArg(2.5)).toBe('2.5');
    expect(functionArg([2, 1])).toBe('2,1');
  });
});
