import { Frame, numeric, onOff, settingsOf, str, useControl, type WidgetProps } from './common.tsx';

/** Image button: toggles between on/off values, showing onImageUrl/offImageUrl (or a plain face). */
export function ImageButtonWidget(props: WidgetProps) {
  const { widget } = props;
  const s = settingsOf(widget);
  const { on, off } = onOff(widget);
  const c = useControl(props);
  const isOn = c.shown !== undefined && numeric(c.shown) === on;
  const url = isOn ? str(s.onImageUrl) : str(s.offImageUrl);
  const label = isOn ? (str(s.onLabel) ?? 'ON') : (str(s.offLabel) ?? 'OFF');
  return (
    <Frame props={props} error={c.error}>
      <button
        type="button"
        className={`wd-image-button${isOn ? ' on' : ''}`}
        disabled={c.disabled}
        aria-pressed={isOn}
        onClick={() => void c.write(isOn ? off : on)}
      >
        {url ? <img src={url} alt={label} /> : <span className="ellipsis">{label}</span>}
      </button>
    </Frame>
  );
}
