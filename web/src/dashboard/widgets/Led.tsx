import { colorOf, Frame, numeric, rangeOf, settingsOf, type WidgetProps } from './common.tsx';

/** LED: lit when the value is non-zero; settings.brightness scales its opacity by value/max. */
export function LedWidget(props: WidgetProps) {
  const { widget, datastream, value } = props;
  const s = settingsOf(widget);
  const n = numeric(value);
  const on = n !== undefined && n !== 0;
  const color = colorOf(widget, datastream, '#1a7f37');
  const [min, max] = rangeOf(widget, datastream, [0, 1]);
  const level = s.brightness === true && n !== undefined ? Math.max(0.15, Math.min(1, (n - min) / (max - min))) : 1;
  return (
    <Frame props={props}>
      <div className="wd-led-wrap">
        <div
          className={`wd-led${on ? ' on' : ''}`}
          role="img"
          aria-label={value === undefined ? 'No data' : on ? 'On' : 'Off'}
          style={on ? { background: color, opacity: level, boxShadow: `0 0 14px ${color}` } : undefined}
        />
        {value === undefined ? <span className="muted wd-small">No data</span> : null}
      </div>
    </Frame>
  );
}
