/** The few Particle Cloud API calls the integration makes (specs/particle.md §2.1, §2.5). */

export type CallResult =
  | { ok: true; httpStatus: number; returnValue: unknown; connected: boolean | undefined }
  | { ok: false; httpStatus: number | null; offline: boolean; auth: boolean; error: string };

const CALL_TIMEOUT_MS = 40_000;

function trimBase(base: string): string {
  return base.replace(/\/+$/, '');
}

/** The error text of a Particle reply: `error_description`, `error` or `info`. */
function errorText(body: unknown, status: number): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const parts = [b.error, b.error_description ?? b.info].filter((x) => typeof x === 'string' && x !== '');
    if (parts.length > 0) return parts.join(': ');
  }
  return `HTTP ${status}`;
}

/** Network errors as words: undici hides the reason in `cause`. */
export function networkError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'Particle Cloud did not answer in time';
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return `Connection refused (${e.cause?.message ?? code})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Unknown host (${e.cause?.message ?? code})`;
  return e?.cause?.message ?? e?.message ?? String(err);
}

/**
 * POST /v1/devices/{id}/{function} (or the product form) with `arg` in a JSON body and the
 * token as a Bearer header. 400/408 with "timed out" means the device is offline.
 */
export async function callFunction(
  base: string,
  token: string,
  productId: string | null,
  coreid: string,
  fn: string,
  arg: string,
): Promise<CallResult> {
  const path = productId
    ? `/v1/products/${encodeURIComponent(productId)}/devices/${encodeURIComponent(coreid)}/${encodeURIComponent(fn)}`
    : `/v1/devices/${encodeURIComponent(coreid)}/${encodeURIComponent(fn)}`;
  let res: Response;
  try {
    res = await fetch(`${trimBase(base)}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ arg }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (err) {
    return { ok: false, httpStatus: null, offline: false, auth: false, error: networkError(err) };
  }
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) {
    const b = (body ?? {}) as Record<string, unknown>;
    const rv = b.return_value ?? (body === undefined && text.trim() !== '' ? Number(text) : undefined);
    return {
      ok: true,
      httpStatus: res.status,
      returnValue: rv ?? null,
      connected: typeof b.connected === 'boolean' ? b.connected : undefined,
    };
  }
  const error = errorText(body, res.status);
  return {
    ok: false,
    httpStatus: res.status,
    offline: (res.status === 400 || res.status === 408) && /timed out/i.test(error),
    auth: res.status === 401 || res.status === 403,
    error,
  };
}

/** The device's name in Particle (GET /v1/devices/{id}); undefined when it cannot be read. */
export async function deviceName(
  base: string,
  token: string,
  productId: string | null,
  coreid: string,
): Promise<string | undefined> {
  const path = productId
    ? `/v1/products/${encodeURIComponent(productId)}/devices/${encodeURIComponent(coreid)}`
    : `/v1/devices/${encodeURIComponent(coreid)}`;
  try {
    const res = await fetch(`${trimBase(base)}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) return undefined;
    const b = (await res.json()) as { name?: unknown };
    return typeof b.name === 'string' && b.name.trim() !== '' ? b.name.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The URL of the event stream the integration holds: the account's, or the product's. */
export function streamUrl(base: string, productId: string | null): string {
  return productId
    ? `${trimBase(base)}/v1/products/${encodeURIComponent(productId)}/events`
    : `${trimBase(base)}/v1/devices/events`;
}

export { errorText };
