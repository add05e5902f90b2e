import { choicesOf, Frame, numeric, settingsOf, str, useControl, type WidgetProps } from './common.tsx';

/** Segmented switch: one segment per option (enum options, settings.options, or integers). */
export function SegmentedSwitchWidget(props: WidgetProps) {
  const { widget, datastream } = props;
  const choices = choicesOf(widget, datastream).slice(0, 10);
  const c = useControl(props);
  const current = numeric(c.shown);
  const accent = str(settingsOf(widget).color) ?? datastream?.color ?? '#1f6feb';
  return (
    <Frame props={props} error={c.error}>
      <div className="wd-segments">
        {choices.map((o) => {
          const active = current === o.value;
          const color = o.color ?? accent;
          return (
            <button
              key={o.value}
              type="button"
              aria-pressed={active}
              title={o.label}
              className={active ? 'active' : undefined}
              style={active ? { background: color, borderColor: color } : undefined}
              disabled={c.disabled}
              onClick={() => void c.write(o.value)}
            >
              <span className="ellipsis">{o.label}</span>
            </button>
          );
        })}
      </div>
    </Frame>
  );
}
