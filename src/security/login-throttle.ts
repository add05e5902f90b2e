/**
 * Counts failed logins per client address: after `maxFailures` the address is blocked for
 * `blockMs` (Blynk: 5 failures → 10 minutes). A success clears the count.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { failures: number; blockedUntil: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly blockMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds the address must still wait, or 0. */
  blockedFor(address: string): number {
    const e = this.entries.get(address);
    if (!e) return 0;
    const left = e.blockedUntil - this.now();
    if (e.blockedUntil > 0 && left <= 0) {
      this.entries.delete(address);
      return 0;
    }
    return Math.max(0, left);
  }

  fail(address: string): void {
    const e = this.entries.get(address) ?? { failures: 0, blockedUntil: 0 };
    e.failures += 1;
    if (e.failures >= this.maxFailures) e.blockedUntil = this.now() + this.blockMs;
    this.entries.set(address, e);
    if (this.entries.size > 100_000) this.prune();
  }

  succeed(address: string): void {
    this.entries.delete(address);
  }

  private prune(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.blockedUntil === 0 || e.blockedUntil < now) this.entries.delete(k);
  }
}
