/** Settings of one The Things Stack application card (everything but the API key). */
export const DOWNLINK_PRIORITIES = [
  'LOWEST',
  'LOW',
  'BELOW_NORMAL',
  'NORMAL',
  'ABOVE_NORMAL',
  'HIGH',
  'HIGHEST',
] as const;
export type DownlinkPriority = (typeof DOWNLINK_PRIORITIES)[number];

export interface TtsSettings {
  host: string;
  port: number;
  /** false = "Insecure": plain MQTT (usually port 1883). */
  tls: boolean;
  /** `app-id@tenant` (or `app-id` on single-tenant Open Source deployments). */
  username: string;
  /** f_port of downlinks (1..223). */
  fPort: number;
  priority: DownlinkPriority;
  confirmed: boolean;
  /** `blynk`: {name, pin, ts, value}; `named`: {"<datastream name>": value} for Device Repository encoders. */
  downlinkShape: 'blynk' | 'named';
  /** Replace the device's queue with the latest value of each datastream instead of pushing one per change. */
  coalesce: boolean;
  /** Map nested decoder output (dotted paths, {value, unit} wrappers). */
  flatten: boolean;
  /** Explicit decoded-payload key (or dotted path) → datastream pin or name. */
  mapping: Record<string, string>;
  /** Create a device on the first uplink of an unknown TTS device. */
  autoCreate: boolean;
}

export const TTS_DEVICE_METAFIELD = 'TheThingsNetwork Device';

export function defaultPort(tls: boolean): number {
  return tls ? 8883 : 1883;
}
