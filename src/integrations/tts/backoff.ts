/**
 * Reconnect delays: exponential with jitter, so many broken integrations do not retry in
 * step. A refused login (bad credentials) starts at the maximum and grows to ten times it:
 * retrying a wrong key quickly only earns a rate-limit ban.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  random?: () => number;
}

export function reconnectDelay(attempt: number, authFailure: boolean, o: BackoffOptions): number {
  const random = o.random ?? Math.random;
  const base = authFailure ? o.maxMs * 2 ** Math.min(attempt, 20) : o.minMs * 2 ** Math.min(attempt, 30);
  const cap = authFailure ? o.maxMs * 10 : o.maxMs;
  const delay = Math.min(cap, base);
  // "Equal jitter": half fixed, half random.
  return Math.round(delay / 2 + random() * (delay / 2));
}
