import { Component, type ReactNode, Suspense } from 'react';
import type { WidgetProps } from './widgets/common.tsx';
import { widgetKind } from './widgets/registry.ts';

class Boundary extends Component<{ children: ReactNode; name: string }, { failed: boolean }> {
  state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  render() {
    if (this.state.failed)
      return <div className="wd wd-broken muted">This {this.props.name} widget failed to draw.</div>;
    return this.props.children;
  }
}

/** One widget of any type, kept from taking the dashboard down if it throws. */
export function WidgetHost(props: WidgetProps) {
  const kind = widgetKind(props.widget.type);
  const C = kind.component;
  return (
    <Boundary name={kind.name}>
      <Suspense
        fallback={
          <div className="muted" style={{ padding: '0.75rem' }}>
            Loading {kind.name.toLowerCase()}…
          </div>
        }
      >
        <C {...props} />
      </Suspense>
    </Boundary>
  );
}
