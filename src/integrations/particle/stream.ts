import type { IntegrationStatus } from '../../store/integrations-repo.ts';
import { type BackoffOptions, reconnectDelay } from '../tts/backoff.ts';
import { errorText, networkError } from './api.ts';
import { type SseMessage, SseParser } from './sse.ts';

export interface StreamEvents {
  onStatus(status: IntegrationStatus, lastError: string | null): void;
  onMessage(m: SseMessage): void;
}

export interface StreamOptions {
  backoff: BackoffOptions;
  /** No byte (event or keep-alive) for this long: the stream is dead, reconnect. */
  idleTimeoutMs: number;
}

interface Failure {
  message: string;
  /** Waiting long helps (bad token, rate limit): start the back-off at its maximum. */
  long: boolean;
}

/** Turns a refused stream open into words a user can act on. */
export function describeRefusal(status: number, body: unknown): Failure {
  const detail = errorText(body, status);
  if (status === 401) {
    return {
      message: `Particle refused the access token (401 ${detail}): create a new token (particle token create) and paste it`,
      long: true,
    };
  }
  if (status === 403) {
    return { message: `The access token may not read this event stream (403 ${detail})`, long: true };
  }
  if (status === 404) {
    return { message: `Particle knows no such product or stream (404 ${detail}): check the product id`, long: true };
  }
  if (status === 429 || status === 529) {
    return {
      message: `Particle is rate-limiting event stream opens (${status}); waiting before the next try`,
      long: true,
    };
  }
  return { message: `Particle answered ${status} (${detail})`, long: false };
}

/**
 * One Server-Sent Events stream from Particle Cloud. Status: not_connected until the first
 * attempt ends, connected while the stream is open, or broken with the reason; while broken it
 * reopens by itself with exponential back-off and jitter (starting at the maximum after a
 * refused token or a rate limit: Particle allows 100 stream opens per 5 minutes per address).
 */
export class ParticleStream {
  private abort: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private idle: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = false;
  private generation = 0;
  status: IntegrationStatus = 'not_connected';
  lastError: string | null = null;
  /** Stream opens tried (tests and diagnostics). */
  attempts = 0;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly events: StreamEvents,
    private readonly o: StreamOptions,
  ) {}

  start(): void {
    this.stopped = false;
    void this.open();
  }

  /** Retry at once (the "Connect" button). */
  reconnectNow(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.close();
    void this.open();
  }

  private async open(): Promise<void> {
    const gen = ++this.generation;
    const abort = new AbortController();
    this.abort = abort;
    this.attempts += 1;
    const current = () => gen === this.generation && !this.stopped;
    let openedAt = 0;
    let failure: Failure;
    try {
      const res = await fetch(this.url, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream', 'cache-control': 'no-cache' },
        signal: abort.signal,
      });
      if (!current()) {
        void res.body?.cancel().catch(() => {});
        return;
      }
      if (res.status !== 200 || !res.body) {
        const text = await res.text().catch(() => '');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        failure = describeRefusal(res.status, body);
      } else {
        openedAt = Date.now();
        this.setStatus('connected', null);
        this.armIdle(abort);
        const parser = new SseParser((m) => {
          if (current()) this.events.onMessage(m);
        });
        const decoder = new TextDecoder();
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (!current()) return;
          if (done) break;
          this.armIdle(abort);
          parser.push(decoder.decode(value, { stream: true }));
        }
        failure = { message: 'Particle closed the event stream', long: false };
      }
    } catch (err) {
      if (!current()) return;
      failure =
        abort.signal.aborted && abort.signal.reason === 'idle'
          ? {
              message: `No data or keep-alive from Particle for ${this.o.idleTimeoutMs} ms: the stream was dead`,
              long: false,
            }
          : openedAt
            ? { message: `The Particle event stream was lost (${networkError(err)})`, long: false }
            : { message: networkError(err), long: false };
    } finally {
      if (gen === this.generation) this.clearIdle();
    }
    if (!current()) return;
    this.abort = null;
    abort.abort();
    // A stream that stayed up a while starts the back-off afresh; one dropped at once does not.
    if (openedAt && Date.now() - openedAt >= this.o.backoff.maxMs) this.attempt = 0;
    this.setStatus('broken', failure.message);
    this.schedule(failure.long);
  }

  private armIdle(abort: AbortController): void {
    this.clearIdle();
    this.idle = setTimeout(() => abort.abort('idle'), this.o.idleTimeoutMs);
    this.idle.unref();
  }

  private clearIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
  }

  private schedule(long: boolean): void {
    if (this.stopped || this.timer) return;
    const delay = reconnectDelay(this.attempt, long, this.o.backoff);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) void this.open();
    }, delay);
    this.timer.unref();
  }

  private setStatus(status: IntegrationStatus, lastError: string | null): void {
    if (status === this.status && lastError === this.lastError) return;
    this.status = status;
    this.lastError = lastError;
    this.events.onStatus(status, lastError);
  }

  private close(): void {
    this.generation += 1;
    this.clearIdle();
    const a = this.abort;
    this.abort = null;
    a?.abort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.close();
  }
}
