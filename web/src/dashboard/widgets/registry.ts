import { type ComponentType, lazy } from 'react';
import { WIDGET_TYPE_NAMES, WIDGET_TYPES, type WidgetType } from '../../../../src/domain/widgets.ts';
import type { DatastreamType } from '../../types.ts';
import { ButtonWidget } from './Button.tsx';
import type { WidgetProps } from './common.tsx';
import { GaugeWidget } from './Gauge.tsx';
import { ImageButtonWidget } from './ImageButton.tsx';
import { LabelWidget } from './Label.tsx';
import { LedWidget } from './Led.tsx';
import { MenuWidget } from './Menu.tsx';
import { NumberInputWidget } from './NumberInput.tsx';
import { SegmentedSwitchWidget } from './SegmentedSwitch.tsx';
import { SliderWidget } from './Slider.tsx';
import { SwitchWidget } from './Switch.tsx';
import { TerminalWidget } from './Terminal.tsx';
import { TextInputWidget } from './TextInput.tsx';
import { UnsupportedWidget } from './Unsupported.tsx';

// uPlot and Leaflet are most of the console's weight: load them with the first chart or map.
const ChartWidget = lazy(() => import('./Chart.tsx').then((m) => ({ default: m.ChartWidget })));
const MapWidget = lazy(() => import('./Map.tsx').then((m) => ({ default: m.MapWidget })));

export interface WidgetKind {
  name: string;
  component: ComponentType<WidgetProps>;
  /** Default size on the 12-column grid. */
  w: number;
  h: number;
  /** Offered in the builder's palette. */
  palette: boolean;
}

const KINDS: Partial<Record<WidgetType, WidgetKind>> = {
  switch: { name: 'Switch', component: SwitchWidget, w: 2, h: 2, palette: true },
  button: { name: 'Button', component: ButtonWidget, w: 2, h: 2, palette: true },
  slider: { name: 'Slider', component: SliderWidget, w: 4, h: 2, palette: true },
  number_input: { name: 'Number input', component: NumberInputWidget, w: 3, h: 2, palette: true },
  text_input: { name: 'Text input', component: TextInputWidget, w: 4, h: 2, palette: true },
  segmented_switch: { name: 'Segmented switch', component: SegmentedSwitchWidget, w: 4, h: 2, palette: true },
  menu: { name: 'Menu', component: MenuWidget, w: 3, h: 2, palette: true },
  label: { name: 'Label', component: LabelWidget, w: 3, h: 2, palette: true },
  led: { name: 'LED', component: LedWidget, w: 2, h: 2, palette: true },
  gauge: { name: 'Gauge', component: GaugeWidget, w: 3, h: 3, palette: true },
  radial_gauge: { name: 'Radial gauge', component: GaugeWidget, w: 3, h: 3, palette: false },
  chart: { name: 'Chart', component: ChartWidget, w: 6, h: 4, palette: true },
  map: { name: 'Map', component: MapWidget, w: 6, h: 5, palette: true },
  terminal: { name: 'Terminal', component: TerminalWidget, w: 4, h: 4, palette: true },
  image_button: { name: 'Image button', component: ImageButtonWidget, w: 2, h: 2, palette: true },
};

const humanize = (t: string) => t.charAt(0).toUpperCase() + t.slice(1).replace(/_/g, ' ');

/** Everything the console knows about a widget type (unknown types render as text). */
export function widgetKind(type: string): WidgetKind {
  return (
    KINDS[type as WidgetType] ?? { name: humanize(type), component: UnsupportedWidget, w: 3, h: 2, palette: false }
  );
}

/** The palette, in the server's order. */
export const PALETTE: WidgetType[] = WIDGET_TYPE_NAMES.filter((t) => KINDS[t]?.palette);

/** Datastream types a widget type accepts (the server's rules). */
export function acceptedTypes(type: string): readonly DatastreamType[] {
  return (WIDGET_TYPES as Record<string, readonly DatastreamType[]>)[type] ?? [];
}
