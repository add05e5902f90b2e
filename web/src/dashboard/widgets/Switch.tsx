import { Frame, numeric, onOff, settingsOf, str, useControl, type WidgetProps } from './common.tsx';

/** On/off switch: writes settings.onValue/offValue (default 1/0); shows onLabel/offLabel. */
export function SwitchWidget(props: WidgetProps) {
  const { widget, datastream } = props;
  const s = settingsOf(widget);
  const { on, off } = onOff(widget);
  const c = useControl(props);
  const isOn = c.shown !== undefined && numeric(c.shown) === on;
  const color = str(s.color) ?? datastream?.color ?? '#1a7f37';
  const label = isOn ? (str(s.onLabel) ?? 'ON') : (str(s.offLabel) ?? 'OFF');
  return (
    <Frame props={props} error={c.error}>
      <button
        type="button"
        role="switch"
        aria-checked={isOn}
        className={`wd-switch${isOn ? ' on' : ''}`}
        style={isOn ? { background: color, borderColor: color } : undefined}
        disabled={c.disabled || c.busy}
        onClick={() => void c.write(isOn ? off : on)}
      >
        <span className="knob" />
      </button>
      <span className="wd-switch-label ellipsis">{c.shown === undefined ? '—' : label}</span>
    </Frame>
  );
}
