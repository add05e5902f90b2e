import type { StoredValue } from '../domain/datastream.ts';

/** Where a value came from. Downlinks go only to channels other than the source. */
export type ValueSource =
  | 'http' // device HTTPS API
  | 'device' // a live device connection (binary protocol, MQTT)
  | 'tts'
  | 'particle'
  | 'web' // console or /api/v1 write by a user
  | 'api'
  | 'automation'
  | 'import';

/** Sources that are the device itself speaking: they count as device activity. */
export const DEVICE_SOURCES: ReadonlySet<ValueSource> = new Set(['http', 'device', 'tts', 'particle', 'import']);

export interface ValueEvent {
  type: 'value';
  orgId: number;
  templateId: string;
  deviceId: number;
  pin: string;
  datastreamId: number;
  value: StoredValue;
  ts: number;
  source: ValueSource;
  /** The datastream's latest value before this one (undefined when it had none). */
  previous?: StoredValue;
}

export interface StatusEvent {
  type: 'status';
  orgId: number;
  templateId: string;
  deviceId: number;
  online: boolean;
  ts: number;
}

export interface TimelineEvent {
  type: 'timeline';
  orgId: number;
  deviceId: number;
  item: { ts: number; type: string; [k: string]: unknown };
}

export interface PropertyEvent {
  type: 'property';
  orgId: number;
  deviceId: number;
  pin: string;
  property: string;
  value: string | string[];
  ts: number;
}

/** An integration's connection status changed. */
export interface IntegrationEvent {
  type: 'integration';
  orgId: number;
  integrationId: number;
  integrationType: string;
  templateId: string;
  status: 'not_connected' | 'connected' | 'broken';
  lastError: string | null;
}

/** Cache invalidation between instances. */
export interface InvalidateEvent {
  type: 'invalidate';
  entity: 'device' | 'template' | 'integration' | 'webhook';
  id: string;
  /** For integrations: also retry the connection now. */
  action?: 'connect';
}

export type BusEvent = ValueEvent | StatusEvent | TimelineEvent | PropertyEvent | IntegrationEvent | InvalidateEvent;

/** Set on events that came from another instance (Redis bus); absent on local ones. */
export const REMOTE = Symbol('remote');
export type Delivered = BusEvent & { [REMOTE]?: true };

export function isRemote(e: BusEvent): boolean {
  return (e as Delivered)[REMOTE] === true;
}
export type BusListener = (event: BusEvent) => void;

export interface EventBus {
  publish(event: BusEvent): void;
  /** Tells other instances only (cache invalidation); a no-op with a single instance. */
  broadcast(event: InvalidateEvent): void;
  subscribe(listener: BusListener): () => void;
  close(): Promise<void>;
}
