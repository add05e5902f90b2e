import { useEffect, useState } from 'react';
import { Frame, formatNumber, num, numeric, rangeOf, settingsOf, useControl, type WidgetProps } from './common.tsx';

/** Number input with -/+ buttons (step), clamped to min..max; settings.loop wraps around. */
export function NumberInputWidget(props: WidgetProps) {
  const { widget, datastream } = props;
  const s = settingsOf(widget);
  const [min, max] = rangeOf(widget, datastream, [-1e9, 1e9]);
  const step = num(s.step) ?? 1;
  const c = useControl(props);
  const current = numeric(c.shown);
  const [text, setText] = useState('');
  useEffect(() => setText(current === undefined ? '' : String(current)), [current]);
  const fitValue = (v: number) => {
    if (s.loop === true) {
      if (v > max) return min;
      if (v < min) return max;
    }
    const clamped = Math.min(max, Math.max(min, v));
    return datastream?.type === 'integer' ? Math.round(clamped) : Number(clamped.toFixed(10));
  };
  const send = (v: number) => {
    const f = fitValue(v);
    setText(String(f));
    void c.write(f);
  };
  const submit = () => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) return setText(current === undefined ? '' : String(current));
    if (n !== current) send(n);
  };
  return (
    <Frame props={props} error={c.error}>
      <div className="wd-number">
        <button type="button" disabled={c.disabled} aria-label="Decrease" onClick={() => send((current ?? min) - step)}>
          −
        </button>
        <input
          inputMode="decimal"
          value={text}
          placeholder="—"
          disabled={c.disabled}
          aria-label={widget.title || datastream?.name || 'Number'}
          onChange={(e) => setText(e.target.value)}
          onBlur={submit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') submit();
          }}
        />
        <button type="button" disabled={c.disabled} aria-label="Increase" onClick={() => send((current ?? min) + step)}>
          +
        </button>
      </div>
      {datastream?.units ? <div className="muted wd-small">{datastream.units}</div> : null}
      {current !== undefined && datastream?.decimals ? (
        <div className="muted wd-small">{formatNumber(current, datastream)}</div>
      ) : null}
    </Frame>
  );
}
