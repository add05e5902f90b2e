import { choicesOf, Frame, numeric, useControl, type WidgetProps } from './common.tsx';

/** Drop-down menu of options (enum options, settings.options, or integers). */
export function MenuWidget(props: WidgetProps) {
  const { widget, datastream } = props;
  const choices = choicesOf(widget, datastream);
  const c = useControl(props);
  const current = numeric(c.shown);
  return (
    <Frame props={props} error={c.error}>
      <select
        className="wd-menu"
        value={current === undefined ? '' : String(current)}
        disabled={c.disabled}
        aria-label={widget.title || datastream?.name || 'Menu'}
        onChange={(e) => void c.write(Number(e.target.value))}
      >
        {current === undefined || !choices.some((o) => o.value === current) ? (
          <option value={current === undefined ? '' : String(current)}>{current === undefined ? '—' : current}</option>
        ) : null}
        {choices.map((o) => (
          <option key={o.value} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    </Frame>
  );
}
