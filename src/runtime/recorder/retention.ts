/**
 * Retention, enforced in the background: finished flights older than
 * `--retention-days` are deleted with everything recorded for them (and
 * ground frames, commands and events as old), and while the database is
 * over `--record-max-bytes` the oldest finished flights go first.
 *
 * Owns the sweep and its timer; the store does the deleting. Open flights
 * are never deleted. A failing sweep is logged and tried again next time.
 */
import type { Logger } from "../observability/log.ts";
import type { RecorderStore } from "./store.ts";

/** How often the sweep runs, milliseconds. */
export const retentionSweepMilliseconds = 10 * 60 * 1000;
/** Most flights one sweep deletes for the size cap: a sweep stays short; the next one goes on. */
const maxCapDeletionsPerSweep = 1000;
const dayMilliseconds = 86_400_000;

export interface RetentionSettings {
  retentionDays: number;
  /** 0: no cap. */
  maxBytes: number;
}

/** What one sweep deleted. */
export interface SweepResult {
  expired: number;
  overCap: number;
}

export class RetentionSweeper {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<SweepResult> | null = null;

  constructor(
    private readonly store: RecorderStore,
    private readonly settings: RetentionSettings,
    private readonly logger: Logger,
    private readonly wallMs: () => number,
  ) {}

  /** Sweeps now, then every `retentionSweepMilliseconds`. */
  start(): void {
    void this.sweep();
    this.timer ??= setInterval(() => void this.sweep(), retentionSweepMilliseconds);
  }

  stop(): Promise<unknown> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  /** One sweep (one at a time): expired flights, then the oldest while over the cap. */
  sweep(): Promise<SweepResult> {
    return (this.running ??= this.sweepOnce()
      .catch((error) => {
        this.logger.error({ event: "retention_failed", message: error instanceof Error ? error.message : String(error) });
        return { expired: 0, overCap: 0 };
      })
      .finally(() => (this.running = null)));
  }

  private async sweepOnce(): Promise<SweepResult> {
    const expired = await this.store.deleteBefore(this.wallMs() - this.settings.retentionDays * dayMilliseconds);
    let overCap = 0;
    while (this.settings.maxBytes > 0 && overCap < maxCapDeletionsPerSweep && (await this.store.sizeBytes()) > this.settings.maxBytes) {
      const oldest = await this.store.oldestFinishedFlight();
      if (oldest === null) break;
      await this.store.deleteFlight(oldest.id);
      overCap++;
    }
    if (expired + overCap > 0) this.logger.info({ event: "retention", expired, overCap });
    return { expired, overCap };
  }
}
