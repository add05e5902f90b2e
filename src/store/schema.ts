import type { Generated } from 'kysely';

/**
 * Tables as Kysely sees them. Timestamps are Unix milliseconds (bigint on PostgreSQL, parsed
 * back to numbers); booleans are stored as 0/1 integers on both databases; structured values
 * are JSON text. One schema, two dialects.
 */
export interface Database {
  organizations: { id: Generated<number>; name: string; created_at: number };
  users: {
    id: Generated<number>;
    org_id: number;
    email: string;
    password_hash: string;
    role: string;
    created_at: number;
  };
  auth_tokens: {
    id: Generated<number>;
    user_id: number;
    kind: string;
    name: string;
    token_hash: string;
    created_at: number;
    expires_at: number | null;
  };
  templates: {
    id: string;
    org_id: number;
    name: string;
    description: string;
    log_any_data: number;
    offline_after_seconds: number;
    next_datastream_id: number;
    next_metafield_id: number;
    next_event_id: number;
    created_at: number;
    updated_at: number;
  };
  datastreams: {
    template_id: string;
    id: number;
    name: string;
    pin: string;
    type: string;
    min: number | null;
    max: number | null;
    decimals: string | null;
    units: string | null;
    default_value: string | null;
    save_raw: number;
    sync_on_connect: number;
    options: string | null;
    fallback: number | null;
    color: string | null;
  };
  metafields: {
    template_id: string;
    id: number;
    name: string;
    type: string;
    required: number;
    default_value: string | null;
  };
  template_events: {
    template_id: string;
    id: number;
    code: string;
    name: string;
    type: string;
    description: string;
  };
  devices: {
    id: Generated<number>;
    org_id: number;
    template_id: string;
    name: string;
    token_hash: string;
    token_enc: string;
    online: number;
    last_seen_at: number | null;
    firmware_version: string | null;
    created_at: number;
    updated_at: number;
  };
  device_metadata: { device_id: number; metafield_id: number; value: string };
  latest_values: { device_id: number; pin: string; value: string; ts: number };
  history_raw: {
    device_id: number;
    pin: string;
    ts: number;
    num: number | null;
    text: string | null;
  };
  history_minute: {
    device_id: number;
    pin: string;
    minute: number;
    sum: number;
    count: number;
    min: number | null;
    max: number | null;
    last_text: string | null;
  };
  device_properties: {
    device_id: number;
    pin: string;
    property: string;
    value: string;
    ts: number;
  };
  timeline: {
    id: Generated<number>;
    device_id: number;
    ts: number;
    type: string;
    data: string;
  };
  integrations: {
    id: Generated<number>;
    org_id: number;
    type: string;
    template_id: string;
    name: string;
    settings: string;
    secret_enc: string;
    status: string;
    last_error: string | null;
    created_at: number;
    updated_at: number;
  };
  /** One web dashboard per template: JSON {tabs: [{id, name, widgets}]}. */
  dashboards: { template_id: string; doc: string; updated_at: number };
  /** Outgoing webhooks (003-webhooks): definition, sealed secrets, quota bucket, failure state. */
  webhooks: {
    id: Generated<number>;
    org_id: number;
    template_id: string;
    device_id: number | null;
    pin: string;
    name: string;
    url: string;
    method: string;
    content_type: string;
    body: string | null;
    headers: string;
    query: string;
    auth_type: string;
    auth_username: string | null;
    secret_enc: string;
    per_minute: number;
    disable_after: number;
    enabled: number;
    disabled_reason: string | null;
    consecutive_failures: number;
    tokens: number;
    tokens_at: number;
    last_triggered_at: number | null;
    last_status: string | null;
    attempts: number;
    created_at: number;
    updated_at: number;
  };
  /** The webhook outbox: deliveries still to make, claimed by the worker when due. */
  webhook_deliveries: {
    id: Generated<number>;
    webhook_id: number;
    device_id: number | null;
    vars_enc: string;
    attempts: number;
    due_at: number;
    created_at: number;
    last_error: string | null;
  };
  webhook_log: {
    id: Generated<number>;
    webhook_id: number;
    device_id: number | null;
    ts: number;
    status: string;
    http_status: number | null;
    url: string;
    error: string | null;
    response: string | null;
    attempt: number;
  };
}
