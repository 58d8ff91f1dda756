/**
 * How long to wait before the next reconnect attempt: growing delays with jitter, so that a
 * node restarting in front of many phones is not hit by all of them in the same instant.
 */
/**
 * Capped at 8 s: a restarted node is back within seconds and a person is looking at the
 * "reconnecting" banner meanwhile; the jitter still spreads the reconnects of many clients.
 */
export const RECONNECT_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000];
const JITTER = 0.2;

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly delaysMs: readonly number[] = RECONNECT_DELAYS_MS,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt, in ms; each call moves one step up the ladder. */
  next(): number {
    const base = this.delaysMs[Math.min(this.attempt, this.delaysMs.length - 1)] ?? 1000;
    this.attempt += 1;
    return Math.round(base * (1 - JITTER + 2 * JITTER * this.random()));
  }

  /** A connection succeeded, or the network just came back: start from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }
}
