import type { Datastream, StoredValue } from '../../domain/datastream.ts';
import type { TtsSettings } from './settings.ts';

/** One item of a TTS `downlinks` array (specs/tts.md §4.1). */
export interface TtsDownlink {
  f_port: number;
  decoded_payload: Record<string, unknown>;
  priority: string;
  confirmed?: true;
  correlation_ids: string[];
}

export const CORRELATION_PREFIX = 'pinwheel:dl:';

/**
 * The downlink for one datastream write. Blynk's shape is {name, pin, ts, value} with the
 * pin in lower case; the "named" shape {"<name>": value} is what Device Repository encoders
 * expect.
 */
export function buildDownlink(
  settings: Pick<TtsSettings, 'fPort' | 'priority' | 'confirmed' | 'downlinkShape'>,
  ds: Datastream,
  value: StoredValue,
  ts: number,
  correlationId: string,
): TtsDownlink {
  const decoded =
    settings.downlinkShape === 'named' ? { [ds.name]: value } : { name: ds.name, pin: ds.pin.toLowerCase(), ts, value };
  return {
    f_port: settings.fPort,
    decoded_payload: decoded,
    priority: settings.priority,
    ...(settings.confirmed ? { confirmed: true as const } : {}),
    correlation_ids: [`${CORRELATION_PREFIX}${correlationId}`],
  };
}

/** Our correlation id in a TTS message, if it carries one. */
export function ourCorrelationId(ids: unknown): string | undefined {
  if (!Array.isArray(ids)) return undefined;
  for (const id of ids) {
    if (typeof id === 'string' && id.startsWith(CORRELATION_PREFIX)) return id.slice(CORRELATION_PREFIX.length);
  }
  return undefined;
}
