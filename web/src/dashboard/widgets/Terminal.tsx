import { useEffect, useRef, useState } from 'react';
import { api } from '../../api.ts';
import { Frame, settingsOf, useControl, type WidgetProps } from './common.tsx';

const MAX_LINES = 200;
let lineSeq = 0;
interface Line {
  id: number;
  ts: number;
  text: string;
  out?: boolean;
}

/** Terminal: a log of the string values received (recent history first), and an input line that writes. */
export function TerminalWidget(props: WidgetProps) {
  const { widget, deviceId, value, ts } = props;
  const s = settingsOf(widget);
  const c = useControl(props);
  const [lines, setLines] = useState<Line[]>([]);
  const [text, setText] = useState('');
  const log = useRef<HTMLDivElement>(null);
  const pin = widget.datastream;
  /** The value at mount comes with the history; later values are appended live. */
  const initial = useRef({ ts, value });
  const lastSent = useRef<{ text: string; until: number; echoed: boolean } | null>(null);

  useEffect(() => {
    setLines([]);
    if (deviceId === null || !pin) return;
    let cancelled = false;
    const q = new URLSearchParams({ pin, from: String(Date.now() - 7 * 86_400_000), limit: '50' });
    api<{ points: [number, unknown][] }>('GET', `/api/v1/devices/${deviceId}/history?${q}`)
      .then((r) => {
        if (cancelled) return;
        const old: Line[] = r.points.map(([t, v]) => ({ id: ++lineSeq, ts: t, text: String(v) }));
        const first = initial.current;
        if (first.ts !== undefined && first.value !== undefined && old[old.length - 1]?.text !== String(first.value)) {
          old.push({ id: ++lineSeq, ts: first.ts, text: String(first.value) });
        }
        setLines((cur) => [...old.filter((o) => !cur.some((l) => l.ts === o.ts)), ...cur].slice(-MAX_LINES));
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [deviceId, pin]);

  useEffect(() => {
    if (ts === undefined || value === undefined) return;
    if (deviceId !== null && ts === initial.current.ts) return;
    const sent = lastSent.current;
    if (sent && sent.text === String(value) && Date.now() < sent.until) {
      // Our own write coming back (once from the write's answer, once live): echoed already.
      if (sent.echoed) return;
      sent.echoed = true;
    }
    setLines((cur) =>
      cur.some((l) => l.ts === ts) ? cur : [...cur, { id: ++lineSeq, ts, text: String(value) }].slice(-MAX_LINES),
    );
  }, [ts, value, deviceId]);

  useEffect(() => {
    const el = log.current;
    if (el && s.autoscroll !== false) el.scrollTop = el.scrollHeight;
  });

  const send = () => {
    const t = text.slice(0, 255);
    if (!t) return;
    setText('');
    lastSent.current = { text: t, until: Date.now() + 5000, echoed: s.echo !== false };
    if (s.echo !== false)
      setLines((cur) => [...cur, { id: ++lineSeq, ts: Date.now(), text: t, out: true }].slice(-MAX_LINES));
    void c.write(t);
  };
  return (
    <Frame props={props} error={c.error}>
      <div className="wd-terminal">
        <div className="wd-terminal-log" ref={log} role="log" aria-live="polite">
          {lines.length === 0 ? <span className="muted">No messages yet</span> : null}
          {lines.map((l) => (
            <div key={l.id} className={l.out ? 'out' : undefined}>
              {l.out ? '> ' : ''}
              {l.text}
            </div>
          ))}
        </div>
        <form
          className="wd-terminal-input"
          onSubmit={(e) => {
            e.preventDefault();
            send();
          }}
        >
          <input
            value={text}
            maxLength={255}
            placeholder="Type and press Enter"
            disabled={c.disabled}
            aria-label="Terminal input"
            onChange={(e) => setText(e.target.value)}
          />
        </form>
      </div>
    </Frame>
  );
}
