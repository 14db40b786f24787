/**
 * A fake clock for the client SDK (`SkyportClock`): time moves only when a
 * test says, so reconnection, staleness and timeouts run without sleeping.
 */
import type { SkyportClock, TimerHandle } from "../../client/sdk/index.ts";

/**
 * A clock that moves only when the test says: `advance(ms)` fires every
 * timer due on the way, earliest first, each seeing `now()` at its due time.
 */
export class FakeClock implements SkyportClock {
  private time = Date.UTC(2026, 10, 30);
  private nextHandle = 1;
  private readonly timers = new Map<number, { dueAt: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = this.nextHandle++;
    this.timers.set(handle, { dueAt: this.time + delayMs, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { dueAt: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].dueAt <= end && (next === undefined || entry[1].dueAt < next[1].dueAt)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = next[1].dueAt;
      next[1].callback();
    }
    this.time = end;
  }
}
