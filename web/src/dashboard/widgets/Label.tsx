import {
  colorOf,
  enumOption,
  Frame,
  formatValue,
  numeric,
  rangeOf,
  settingsOf,
  str,
  type WidgetProps,
} from './common.tsx';

/**
 * Label: the value formatted with the datastream's decimals and units; enum values show the
 * option label in its color; settings.levelBar adds a bar from min to max.
 */
export function LabelWidget(props: WidgetProps) {
  const { widget, datastream, value } = props;
  const s = settingsOf(widget);
  const opt = datastream?.type === 'enum' ? enumOption(datastream, value) : undefined;
  const color = opt?.color ?? colorOf(widget, datastream, '#1f2328');
  const text = formatValue(value, datastream, str(s.units));
  const n = numeric(value);
  const showBar = s.levelBar === true && (datastream?.type === 'integer' || datastream?.type === 'double');
  const [min, max] = rangeOf(widget, datastream);
  const pct = n === undefined ? 0 : Math.max(0, Math.min(100, ((n - min) / (max - min)) * 100));
  const align = s.align === 'left' || s.align === 'right' ? s.align : 'center';
  return (
    <Frame props={props}>
      <div className={`wd-label align-${align}`}>
        <div
          className={`wd-label-value${value === undefined ? ' empty' : ''}${datastream?.type === 'string' ? ' text' : ''}`}
          style={value === undefined ? undefined : { color }}
          title={text}
        >
          {opt?.color ? <span className="dot" style={{ background: opt.color }} /> : null}
          <span className="ellipsis">{text}</span>
        </div>
        {showBar ? (
          <div className="wd-level" aria-hidden="true">
            <div style={{ width: `${pct}%`, background: colorOf(widget, datastream) }} />
          </div>
        ) : null}
      </div>
    </Frame>
  );
}
