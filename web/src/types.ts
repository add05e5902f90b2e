/** Shapes of /api/v1 as the console uses them (see specs/platform-api.md). */
import type { Datastream as DomainDatastream, StoredValue } from '../../src/domain/datastream.ts';

export type { DatastreamType, EnumOption, StoredValue } from '../../src/domain/datastream.ts';

/** A datastream as /api/v1 returns it (the server's model without its template id). */
export type Datastream = Omit<DomainDatastream, 'templateId'>;

export interface Metafield {
  id: number;
  name: string;
  type: string;
  required: boolean;
  defaultValue: unknown;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  lifecycle: { logAnyData: boolean; offlineAfterSeconds: number };
  datastreams: Datastream[];
  metafields: Metafield[];
  events: Array<{ id: number; code: string; name: string; type: string; description: string }>;
  createdAt: number;
  updatedAt: number;
}

export interface Device {
  id: number;
  name: string;
  templateId: string;
  token: string;
  online: boolean;
  lastSeenAt: number | null;
  firmwareVersion: string | null;
  metadata: Record<string, unknown>;
  createdAt: number;
  values?: Record<string, { value: StoredValue; ts: number }>;
}

export interface Widget {
  id: string;
  type: string;
  title?: string;
  datastream: string | null;
  x: number;
  y: number;
  w: number;
  h: number;
  settings?: Record<string, unknown>;
}

export interface DashboardTab {
  id?: string;
  name: string;
  widgets: Widget[];
}

export interface Dashboard {
  templateId: string;
  tabs: DashboardTab[];
  updatedAt: number | null;
}

export interface TimelineItem {
  id: number;
  ts: number;
  type: string;
  [k: string]: unknown;
}

export interface TtsIntegration {
  id: number;
  templateId: string;
  name: string;
  host: string;
  port: number;
  tls: boolean;
  username: string;
  status: 'not_connected' | 'connected' | 'broken';
  lastError: string | null;
  [k: string]: unknown;
}
