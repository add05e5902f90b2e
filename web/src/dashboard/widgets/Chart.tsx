import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, errorText } from '../../api.ts';
import { colorOf, Frame, formatNumber, num, numeric, settingsOf, type WidgetProps } from './common.tsx';

export const CHART_RANGES = {
  '1h': 3_600_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
  '1w': 604_800_000,
  '1mo': 2_592_000_000,
};
export type ChartRange = keyof typeof CHART_RANGES | 'custom';
const RANGE_NAMES = [...Object.keys(CHART_RANGES), 'custom'] as ChartRange[];

type Series = [number[], (number | null)[]];

const toLocalInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

function alpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = Number.parseInt(m[1]!, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/**
 * Chart (uPlot): line, area, column or stepline of a numeric datastream over 1h..1mo or a custom
 * from/to. Loads the history from the API and appends live values while showing a moving range.
 */
export function ChartWidget(props: WidgetProps) {
  const { widget, datastream, deviceId, value, ts } = props;
  const s = settingsOf(widget);
  const kind = typeof s.kind === 'string' ? s.kind : 'line';
  const initial = (RANGE_NAMES as string[]).includes(String(s.range)) ? (s.range as ChartRange) : '1d';
  const [range, setRange] = useState<ChartRange>(initial);
  useEffect(() => setRange(initial), [initial]);
  const [custom, setCustom] = useState(() => ({
    from: toLocalInput(Date.now() - 86_400_000),
    to: toLocalInput(Date.now()),
  }));
  const [data, setData] = useState<Series>([[], []]);
  const [state, setState] = useState<{ loading: boolean; error: string | null }>({ loading: false, error: null });
  /** The x axis shows the whole range (seconds), not just the span of the points. */
  const windowRef = useRef<[number, number] | null>(null);
  const pin = widget.datastream;
  const color = colorOf(widget, datastream);
  const yMin = num(s.min);
  const yMax = num(s.max);

  // History for the range.
  useEffect(() => {
    if (deviceId === null || !pin) {
      const now = Date.now();
      windowRef.current = [(now - CHART_RANGES[range === 'custom' ? '1d' : range]) / 1000, now / 1000];
      setData([[], []]);
      return;
    }
    let cancelled = false;
    const to = range === 'custom' ? new Date(custom.to).getTime() : Date.now();
    const from = range === 'custom' ? new Date(custom.from).getTime() : to - CHART_RANGES[range];
    if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) {
      setState({ loading: false, error: 'Pick a start before the end' });
      return;
    }
    windowRef.current = [from / 1000, to / 1000];
    setState({ loading: true, error: null });
    const q = new URLSearchParams({ pin, from: String(from), to: String(to), limit: '10000' });
    api<{ points: [number, unknown][] }>('GET', `/api/v1/devices/${deviceId}/history?${q}`)
      .then((r) => {
        if (cancelled) return;
        const xs: number[] = [];
        const ys: (number | null)[] = [];
        for (const [t, v] of r.points) {
          xs.push(t / 1000);
          ys.push(numeric(v as never) ?? null);
        }
        setData([xs, ys]);
        setState({ loading: false, error: null });
      })
      .catch((e) => {
        if (!cancelled) setState({ loading: false, error: errorText(e) });
      });
    return () => {
      cancelled = true;
    };
  }, [deviceId, pin, range, custom]);

  // Live values extend a moving range.
  useEffect(() => {
    if (ts === undefined || range === 'custom') return;
    const n = numeric(value);
    if (n === undefined) return;
    setData(([xs, ys]) => {
      const t = ts / 1000;
      const last = xs[xs.length - 1];
      if (last !== undefined && t <= last) return [xs, ys];
      const now = Math.max(Date.now() / 1000, t);
      const cut = now - CHART_RANGES[range] / 1000;
      windowRef.current = [cut, now];
      let i = 0;
      while (i < xs.length && xs[i]! < cut) i++;
      return [
        [...xs.slice(i), t],
        [...ys.slice(i), n],
      ];
    });
  }, [ts, value, range]);

  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;

  const opts = useMemo(() => ({ kind, color, yMin, yMax, ds: datastream }), [kind, color, yMin, yMax, datastream]);

  // The plot itself, rebuilt when its look changes; follows the cell's size.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(50, el.clientWidth);
    const height = Math.max(40, el.clientHeight);
    const paths =
      opts.kind === 'column'
        ? uPlot.paths.bars!({ size: [0.6, 24] })
        : opts.kind === 'stepline'
          ? uPlot.paths.stepped!({ align: 1 })
          : undefined;
    const u = new uPlot(
      {
        width,
        height,
        legend: { show: false },
        cursor: { y: false, points: { size: 6 } },
        padding: [8, 8, 0, 0],
        scales: {
          x: { time: true, range: (_u, lo, hi) => windowRef.current ?? [lo, hi] },
          y:
            opts.yMin !== undefined || opts.yMax !== undefined
              ? { range: (_u, lo, hi) => [opts.yMin ?? lo, opts.yMax ?? hi] }
              : {},
        },
        axes: [
          { stroke: '#656d76', grid: { stroke: '#eaeef2' }, ticks: { show: false }, size: 30, font: '11px system-ui' },
          {
            stroke: '#656d76',
            grid: { stroke: '#eaeef2' },
            ticks: { show: false },
            size: 44,
            font: '11px system-ui',
            values: (_u, splits) =>
              splits.map((v) => formatNumber(v, opts.ds?.type === 'integer' ? undefined : opts.ds)),
          },
        ],
        series: [
          {},
          {
            label: 'value',
            stroke: opts.color,
            width: 2,
            spanGaps: true,
            ...(opts.kind === 'area' || opts.kind === 'column'
              ? { fill: alpha(opts.color, opts.kind === 'column' ? 0.7 : 0.2) }
              : {}),
            ...(paths ? { paths } : {}),
            points: {
              show: (u: uPlot, _si: number, i0: number, i1: number) =>
                opts.kind !== 'column' && i1 - i0 < 60 && u.width > 0,
            },
          },
        ],
      },
      dataRef.current as uPlot.AlignedData,
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(50, el.clientWidth);
      const h = Math.max(40, el.clientHeight);
      if (w !== u.width || h !== u.height) u.setSize({ width: w, height: h });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [opts]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  const lastY = data[1][data[1].length - 1];
  const empty = data[0].length === 0;
  return (
    <Frame props={props} error={state.error}>
      <div className="wd-chart">
        <div className="wd-chart-bar">
          <div className="wd-ranges">
            {RANGE_NAMES.map((r) => (
              <button
                key={r}
                type="button"
                className={r === range ? 'active' : undefined}
                aria-pressed={r === range}
                onClick={() => setRange(r)}
              >
                {r}
              </button>
            ))}
          </div>
          {lastY !== undefined && lastY !== null ? (
            <span className="wd-chart-last ellipsis">
              {formatNumber(lastY, datastream)}
              {datastream?.units ? ` ${datastream.units}` : ''}
            </span>
          ) : null}
        </div>
        {range === 'custom' ? (
          <div className="wd-chart-custom">
            <input
              type="datetime-local"
              aria-label="From"
              value={custom.from}
              onChange={(e) => setCustom((c) => ({ ...c, from: e.target.value }))}
            />
            <input
              type="datetime-local"
              aria-label="To"
              value={custom.to}
              onChange={(e) => setCustom((c) => ({ ...c, to: e.target.value }))}
            />
          </div>
        ) : null}
        <div className="wd-chart-plot">
          <div className="wd-chart-canvas" ref={box} />
          {empty ? (
            <div className="wd-chart-empty muted">{state.loading ? 'Loading…' : 'No data for this range'}</div>
          ) : null}
        </div>
      </div>
    </Frame>
  );
}
