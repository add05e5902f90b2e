import { useEffect, useState } from 'react';
import { Frame, settingsOf, str, useControl, type WidgetProps } from './common.tsx';

/** Text input for a string datastream: Enter or the send button writes it. */
export function TextInputWidget(props: WidgetProps) {
  const { widget, datastream } = props;
  const c = useControl(props);
  const current = c.shown === undefined ? '' : String(c.shown);
  const [text, setText] = useState(current);
  useEffect(() => setText(current), [current]);
  const submit = () => {
    if (text !== current) void c.write(text);
  };
  return (
    <Frame props={props} error={c.error}>
      <form
        className="wd-text"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <input
          value={text}
          maxLength={1024}
          placeholder={str(settingsOf(widget).placeholder) ?? 'Type a value'}
          disabled={c.disabled}
          aria-label={widget.title || datastream?.name || 'Text'}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" disabled={c.disabled || text === current}>
          Send
        </button>
      </form>
    </Frame>
  );
}
