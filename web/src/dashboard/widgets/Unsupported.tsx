import { Frame, formatValue, type WidgetProps } from './common.tsx';

/** Widget types the web console does not draw yet: the value as text. */
export function UnsupportedWidget(props: WidgetProps) {
  return (
    <Frame props={props}>
      <div className="wd-label">
        <div className="wd-label-value" title={formatValue(props.value, props.datastream)}>
          {formatValue(props.value, props.datastream)}
        </div>
        <div className="muted wd-small">{props.widget.type.replace(/_/g, ' ')} (shown as text)</div>
      </div>
    </Frame>
  );
}
