/**
 * A circuit breaker per endpoint (subscription): after `failures` failed attempts in a row it
 * opens, and the endpoint's deliveries wait — pending, their retry schedule unspent — instead of
 * each holding a delivery slot until it times out. After `cooldownMs` it is half-open: one
 * delivery goes as a trial; success closes it, failure opens it for another cool-down.
 *
 * A small class rather than a library (opossum): opossum wraps a call and rejects it when open,
 * judging a rolling error percentage; here nothing must be called (or failed) while open — the
 * dispatcher asks before it takes a delivery, so nothing is lost — and the rule wanted is "N in
 * a row", with time an argument so tests move the clock.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Failed attempts in a row that open it. */
  failures: number;
  /** How long it stays open before one trial. */
  cooldownMs: number;
}

export class CircuitBreaker {
  private consecutive = 0;
  private openUntil = 0;
  private trial = false;
  state: BreakerState = 'closed';

  constructor(private readonly opts: BreakerOptions) {}

  /** May an attempt start now? In half-open, yes for one trial at a time. */
  tryAcquire(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (now < this.openUntil) return false;
      this.state = 'half-open';
      this.trial = false;
    }
    if (this.trial) return false;
    this.trial = true;
    return true;
  }

  /** When an open breaker lets a trial through, or undefined. */
  get retryAt(): number | undefined {
    return this.state === 'open' ? this.openUntil : undefined;
  }

  /** The outcome of an attempt it let through. Returns true when this one opened it. */
  record(ok: boolean, now: number): boolean {
    if (ok) {
      this.consecutive = 0;
      this.trial = false;
      this.state = 'closed';
      return false;
    }
    this.consecutive++;
    const wasOpen = this.state !== 'closed';
    if (this.state === 'half-open' || this.consecutive >= this.opts.failures) {
      this.state = 'open';
      this.trial = false;
      this.openUntil = now + this.opts.cooldownMs;
      return !wasOpen;
    }
    return false;
  }

  /** An attempt it let through that ended without a verdict on the endpoint (cancelled). */
  release(): void {
    this.trial = false;
  }
}
