import type { FastifyRequest } from 'fastify';
import type { Datastream } from '../../domain/datastream.ts';
import type { DeviceState, TemplateModel } from '../../domain/model.ts';
import { parsePin } from '../../domain/pins.ts';
import { DeviceApiError } from '../../errors.ts';
import type { Prepared } from '../../ingest/pipeline.ts';
import type { Services } from '../../services.ts';
import { isMalformed, type Query } from '../querystring.ts';

export interface DeviceContext {
  q: Query;
  state: DeviceState;
  model: TemplateModel;
}

/** Names that are parameters, not pins, in a device API query. */
export const RESERVED = new Set(['token', 'pin', 'value', 'dataStreamId']);

export function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Resolves the device from `token`, with Blynk's texts for missing and unknown tokens. */
export async function deviceFromRequest(s: Services, req: FastifyRequest): Promise<DeviceContext> {
  const q = req.query as Query;
  if (isMalformed(q)) throw new DeviceApiError('INCORRECT_PARAMETERS');
  const token = first(q.token);
  if (token === undefined || token === '') throw new DeviceApiError('NO_TOKEN');
  const loaded = s.registry.loadedByToken(token);
  if (loaded) return { q, ...loaded };
  const state = await s.registry.deviceByToken(token);
  if (!state) throw new DeviceApiError('INVALID_TOKEN');
  const model = await s.registry.template(state.device.templateId);
  if (!model) throw new DeviceApiError('INVALID_TOKEN');
  return { q, state, model };
}

export function datastreamByPinText(model: TemplateModel, text: string): Datastream {
  const pin = parsePin(text);
  if (!pin) throw new DeviceApiError('WRONG_PIN');
  const ds = model.byPin.get(pin);
  if (!ds) throw new DeviceApiError('NO_DATASTREAM');
  return ds;
}

export function datastreamById(model: TemplateModel, text: string): Datastream {
  if (!/^\d{1,9}$/.test(text)) throw new DeviceApiError('WRONG_DATASTREAM_ID');
  const ds = model.byId.get(Number(text));
  if (!ds) throw new DeviceApiError('DATASTREAM_NOT_IN_PRODUCT', { template: model.template.name });
  return ds;
}

/** The datastream named by `dataStreamId` or `pin`, if the query uses either form. */
export function addressedDatastream(model: TemplateModel, q: Query): Datastream | undefined {
  const id = first(q.dataStreamId);
  if (id !== undefined) return datastreamById(model, id);
  const pin = first(q.pin);
  if (pin !== undefined) return datastreamByPinText(model, pin);
  return undefined;
}

/** Throws Blynk's error for the first rejected value; used where a request is all-or-nothing. */
export function refuseRejected(p: Prepared): void {
  const bad = p.rejected[0];
  if (!bad) return;
  throw new DeviceApiError(bad.reason === 'too_long' ? 'VALUE_TOO_LONG' : 'TYPE_MISMATCH');
}
