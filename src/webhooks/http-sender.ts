/** Sends one webhook request: bounded in time, reading at most 16 KB of the answer. */

export const RESPONSE_LIMIT_BYTES = 16 * 1024;

export interface OutgoingRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export interface SendResult {
  /** HTTP status, or null when no answer came (network error, timeout). */
  httpStatus: number | null;
  /** The start of the answer's body (at most 16 KB). */
  response: string | null;
  error: string | null;
}

/** Legacy Blynk counted 200/201/202/204 and 302 as success; every 2xx does here, plus 302. */
export function isSuccess(status: number | null): boolean {
  return status !== null && ((status >= 200 && status < 300) || status === 302);
}

/** Worth another try: no answer at all, or a server error. 4xx answers are final. */
export function isRetryable(r: SendResult): boolean {
  return r.httpStatus === null || r.httpStatus >= 500;
}

async function readLimited(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_LIMIT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = Buffer.concat(chunks).subarray(0, RESPONSE_LIMIT_BYTES);
  return all.toString('utf8');
}

function describe(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? 'request failed'}: ${cause}` : (e.message ?? String(err));
}

export async function send(req: OutgoingRequest, timeoutMs: number, stop?: AbortSignal): Promise<SendResult> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const signal = stop ? AbortSignal.any([timeout.signal, stop]) : timeout.signal;
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      // A redirect is an answer (302 counts as success, as in legacy Blynk); it is not followed.
      redirect: 'manual',
      signal,
    });
    const response = await readLimited(res);
    return { httpStatus: res.status, response, error: isSuccess(res.status) ? null : `HTTP ${res.status}` };
  } catch (err) {
    return { httpStatus: null, response: null, error: describe(err, timeout.signal.aborted, timeoutMs) };
  } finally {
    clearTimeout(timer);
  }
}
