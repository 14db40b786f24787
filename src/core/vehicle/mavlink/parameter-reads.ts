/**
 * Reading autopilot parameters by name (PARAM_REQUEST_READ) on one link-up:
 * every name not yet answered is asked again `retrySeconds` apart, at most
 * `attempts` times, then given up (its value stays unknown).
 *
 * Owns only the asking's timing and the values heard; what a value means
 * (a failsafe off, a fence not enforced) is the caller's. Pure: time as
 * arguments, nothing sent by itself.
 */
export class ParameterReads {
  private values = new Map<string, number>();
  private asked = { at: -Infinity, attempts: 0 };

  constructor(
    private readonly names: readonly string[],
    private readonly retrySeconds: number,
    private readonly attempts: number,
  ) {}

  /** A new link-up: nothing heard, nothing asked yet. */
  reset(): void {
    this.values = new Map();
    this.asked = { at: -Infinity, attempts: 0 };
  }

  /** A PARAM_VALUE: kept when it names one of ours; whether it did. */
  heard(name: string, value: number): boolean {
    if (!this.names.includes(name)) return false;
    this.values.set(name, value);
    return true;
  }

  /** What the autopilot reported for `name`, or undefined while it has not. */
  value(name: string): number | undefined {
    return this.values.get(name);
  }

  /** The names to ask at `now`: every one not yet answered, when a retry is due and attempts remain; none otherwise. */
  due(now: number): string[] {
    const unanswered = this.names.filter((name) => !this.values.has(name));
    if (unanswered.length === 0 || this.asked.attempts >= this.attempts || now - this.asked.at < this.retrySeconds) return [];
    this.asked = { at: now, attempts: this.asked.attempts + 1 };
    return unanswered;
  }
}
