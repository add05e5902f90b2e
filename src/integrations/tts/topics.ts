/** The Things Stack v3 MQTT topic layout: v3/{app@tenant}/devices/{device}/{event}. */
export interface ParsedTopic {
  uid: string;
  deviceId: string;
  /** up, join, down/queued, down/sent, down/ack, down/nack, down/failed, location/solved... */
  event: string;
}

export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length < 5 || parts[0] !== 'v3' || parts[2] !== 'devices') return undefined;
  const uid = parts[1]!;
  const deviceId = parts[3]!;
  if (!uid || !deviceId) return undefined;
  return { uid, deviceId, event: parts.slice(4).join('/') };
}

export function deviceTopic(uid: string, deviceId: string, event: string): string {
  return `v3/${uid}/devices/${deviceId}/${event}`;
}

/** What the integration listens to. */
export function subscriptions(uid: string): string[] {
  return ['up', 'join', 'down/#', 'location/solved'].map((e) => `v3/${uid}/devices/+/${e}`);
}
