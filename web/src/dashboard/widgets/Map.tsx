import L from 'leaflet';
import { useEffect, useRef, useState } from 'react';
import 'leaflet/dist/leaflet.css';
import { colorOf, Frame, location, num, settingsOf, type WidgetProps } from './common.tsx';

/**
 * Map (Leaflet + OpenStreetMap tiles) with the device's location [lon, lat] as a vector marker,
 * so it still shows on the blank map when tiles cannot load; the coordinates are printed too.
 */
export function MapWidget(props: WidgetProps) {
  const { widget, datastream, value } = props;
  const loc = location(value);
  const zoom = num(settingsOf(widget).zoom) ?? 13;
  const color = colorOf(widget, datastream, '#cf222e');
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const marker = useRef<L.CircleMarker | null>(null);
  const [tilesFailed, setTilesFailed] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const m = L.map(el, { zoomControl: true, attributionControl: true, worldCopyJump: true }).setView([20, 0], 1);
    const tiles = L.tileLayer('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png', {
      maxZoom: 19,
      attribution: '&copy; OpenStreetMap contributors',
    });
    tiles.on('tileerror', () => setTilesFailed(true));
    tiles.on('tileload', () => setTilesFailed(false));
    tiles.addTo(m);
    map.current = m;
    const ro = new ResizeObserver(() => m.invalidateSize());
    ro.observe(el);
    return () => {
      ro.disconnect();
      m.remove();
      map.current = null;
      marker.current = null;
    };
  }, []);

  const lon = loc?.[0];
  const lat = loc?.[1];
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    if (lat === undefined || lon === undefined) {
      marker.current?.remove();
      marker.current = null;
      return;
    }
    const ll: L.LatLngTuple = [lat, lon];
    if (!marker.current) {
      marker.current = L.circleMarker(ll, {
        radius: 8,
        color: '#fff',
        weight: 2,
        fillColor: color,
        fillOpacity: 1,
      }).addTo(m);
      m.setView(ll, zoom);
    } else {
      marker.current.setLatLng(ll);
      marker.current.setStyle({ fillColor: color });
      if (!m.getBounds().pad(-0.1).contains(ll)) m.panTo(ll);
    }
  }, [lat, lon, color, zoom]);

  return (
    <Frame props={props}>
      <div className="wd-map">
        <div className="wd-map-canvas" ref={box} />
        <div className="wd-map-coords" title={tilesFailed ? 'Map tiles are unavailable' : undefined}>
          {lat === undefined || lon === undefined
            ? 'No location yet'
            : `${lat.toFixed(5)}, ${lon.toFixed(5)}${tilesFailed ? ' · map offline' : ''}`}
        </div>
      </div>
    </Frame>
  );
}
