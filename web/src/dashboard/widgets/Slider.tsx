import { useEffect, useState } from 'react';
import { Frame, formatNumber, num, numeric, rangeOf, settingsOf, useControl, type WidgetProps } from './common.tsx';

/** Slider from min..max (settings, else datastream); sends on release unless sendOnRelease is false. */
export function SliderWidget(props: WidgetProps) {
  const { widget, datastream } = props;
  const s = settingsOf(widget);
  const [min, max] = rangeOf(widget, datastream);
  const step = num(s.step) ?? (datastream?.type === 'double' ? (max - min) / 100 : 1);
  const onRelease = s.sendOnRelease !== false;
  const c = useControl(props);
  const current = numeric(c.shown);
  const [drag, setDrag] = useState<number | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new value from the device ends the drag
  useEffect(() => setDrag(null), [current]);
  const shown = drag ?? current;
  const commit = () => {
    if (drag !== null && drag !== current) void c.write(drag);
  };
  return (
    <Frame props={props} error={c.error}>
      <div className="wd-slider">
        <div className="wd-slider-value">
          {shown === undefined ? '—' : formatNumber(shown, datastream)}
          {datastream?.units ? <span className="muted"> {datastream.units}</span> : null}
        </div>
        <input
          type="range"
          min={min}
          max={max}
          step={step}
          value={shown ?? min}
          disabled={c.disabled}
          aria-label={widget.title || datastream?.name || 'Slider'}
          onChange={(e) => {
            const v = Number(e.target.value);
            setDrag(v);
            if (!onRelease) void c.write(v);
          }}
          onPointerUp={commit}
          onKeyUp={commit}
          onBlur={commit}
        />
        <div className="wd-slider-range muted">
          <span>{formatNumber(min, datastream)}</span>
          <span>{formatNumber(max, datastream)}</span>
        </div>
      </div>
    </Frame>
  );
}
