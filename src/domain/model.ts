import type { Datastream, StoredValue } from './datastream.ts';

export type Role = 'admin' | 'staff' | 'user';

export interface User {
  id: number;
  orgId: number;
  email: string;
  role: Role;
  createdAt: number;
}

export interface Template {
  id: string;
  orgId: number;
  name: string;
  description: string;
  logAnyData: boolean;
  offlineAfterSeconds: number;
  createdAt: number;
  updatedAt: number;
}

export const METAFIELD_TYPES = ['text', 'number', 'switch', 'email', 'coordinates', 'list'] as const;
export type MetafieldType = (typeof METAFIELD_TYPES)[number];

export interface Metafield {
  id: number;
  templateId: string;
  name: string;
  type: MetafieldType;
  required: boolean;
  defaultValue: unknown;
}

export const EVENT_TYPES = ['info', 'warning', 'critical', 'content'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface TemplateEvent {
  id: number;
  templateId: string;
  code: string;
  name: string;
  type: EventType;
  description: string;
}

/** A template with everything needed to accept values, indexed for the hot path. */
export interface TemplateModel {
  template: Template;
  datastreams: Datastream[];
  byPin: Map<string, Datastream>;
  byName: Map<string, Datastream>;
  byId: Map<number, Datastream>;
  metafields: Metafield[];
  events: TemplateEvent[];
}

export interface Device {
  id: number;
  orgId: number;
  templateId: string;
  name: string;
  token: string;
  online: boolean;
  lastSeenAt: number | null;
  firmwareVersion: string | null;
  createdAt: number;
  updatedAt: number;
  /** Metafield id → value. */
  metadata: Map<number, unknown>;
}

export interface LatestValue {
  value: StoredValue;
  ts: number;
}

/** A device as the hot path holds it: the record plus its latest values. */
export interface DeviceState {
  device: Device;
  latest: Map<string, LatestValue>;
  /** When last_seen_at was last written to the database (it is written at most every few seconds). */
  seenPersistedAt?: number;
}

export function indexTemplate(
  template: Template,
  datastreams: Datastream[],
  metafields: Metafield[],
  events: TemplateEvent[],
): TemplateModel {
  return {
    template,
    datastreams,
    byPin: new Map(datastreams.map((d) => [d.pin, d])),
    byName: new Map(datastreams.map((d) => [d.name, d])),
    byId: new Map(datastreams.map((d) => [d.id, d])),
    metafields,
    events,
  };
}
