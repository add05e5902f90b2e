import { type CSSProperties, useRef } from 'react';
import { Frame, numeric, onOff, settingsOf, str, useControl, type WidgetProps } from './common.tsx';

/**
 * Button. mode "push" (default): onValue on press, offValue on release. mode "switch": toggles.
 * mode "single": sends onValue on each click.
 */
export function ButtonWidget(props: WidgetProps) {
  const { widget, datastream } = props;
  const s = settingsOf(widget);
  const mode = s.mode === 'switch' || s.mode === 'single' ? s.mode : 'push';
  const { on, off } = onOff(widget);
  const c = useControl(props);
  const pressed = useRef(false);
  const isOn = c.shown !== undefined && numeric(c.shown) === on;
  const color = str(s.color) ?? datastream?.color ?? '#1f6feb';
  const label = isOn ? (str(s.onLabel) ?? str(s.label) ?? 'ON') : (str(s.offLabel) ?? str(s.label) ?? 'OFF');
  const down = () => {
    if (mode !== 'push' || c.disabled) return;
    pressed.current = true;
    void c.write(on);
  };
  const up = () => {
    if (mode !== 'push' || !pressed.current) return;
    pressed.current = false;
    void c.write(off);
  };
  const click = () => {
    if (mode === 'switch') void c.write(isOn ? off : on);
    else if (mode === 'single') void c.write(on);
  };
  return (
    <Frame props={props} error={c.error}>
      <button
        type="button"
        className={`wd-button${isOn && mode !== 'single' ? ' on' : ''}`}
        style={{ '--wd-color': color } as CSSProperties}
        disabled={c.disabled}
        onPointerDown={down}
        onPointerUp={up}
        onPointerLeave={up}
        onPointerCancel={up}
        onClick={click}
        onKeyDown={(e) => {
          if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) down();
        }}
        onKeyUp={(e) => {
          if (e.key === ' ' || e.key === 'Enter') up();
        }}
      >
        <span className="ellipsis">{label}</span>
      </button>
    </Frame>
  );
}
