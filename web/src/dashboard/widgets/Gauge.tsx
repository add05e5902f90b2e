import { colorOf, Frame, formatNumber, numeric, rangeOf, settingsOf, str, type WidgetProps } from './common.tsx';

/** Degrees clockwise from 12 o'clock: a 270° arc from bottom-left to bottom-right. */
const START = -135;
const SWEEP = 270;

function point(cx: number, cy: number, r: number, deg: number): [number, number] {
  const rad = ((deg - 90) * Math.PI) / 180;
  return [cx + r * Math.cos(rad), cy + r * Math.sin(rad)];
}

function arc(cx: number, cy: number, r: number, from: number, to: number): string {
  const [x1, y1] = point(cx, cy, r, from);
  const [x2, y2] = point(cx, cy, r, to);
  const large = to - from > 180 ? 1 : 0;
  return `M ${x1.toFixed(2)} ${y1.toFixed(2)} A ${r} ${r} 0 ${large} 1 ${x2.toFixed(2)} ${y2.toFixed(2)}`;
}

/** Gauge: an SVG arc from min to max filled up to the value. */
export function GaugeWidget(props: WidgetProps) {
  const { widget, datastream, value } = props;
  const [min, max] = rangeOf(widget, datastream);
  const n = numeric(value);
  const frac = n === undefined ? 0 : Math.max(0, Math.min(1, (n - min) / (max - min)));
  const color = colorOf(widget, datastream);
  const units = str(settingsOf(widget).units) ?? datastream?.units ?? '';
  const start = START;
  return (
    <Frame props={props}>
      <svg className="wd-gauge" viewBox="0 0 120 100" role="img" aria-label={n === undefined ? 'No data' : String(n)}>
        <path d={arc(60, 58, 44, start, start + SWEEP)} className="track" />
        {frac > 0 ? (
          <path d={arc(60, 58, 44, start, start + SWEEP * Math.max(frac, 0.002))} stroke={color} className="fill" />
        ) : null}
        <text x="60" y="62" className="value">
          {n === undefined ? '—' : formatNumber(n, datastream)}
        </text>
        {units ? (
          <text x="60" y="76" className="units">
            {units}
          </text>
        ) : null}
        <text x="16" y="96" className="bound">
          {formatNumber(min, datastream)}
        </text>
        <text x="104" y="96" className="bound">
          {formatNumber(max, datastream)}
        </text>
      </svg>
    </Frame>
  );
}
