/**
 * A recorded flight's frames read from the store a page at a time, ahead of
 * a replay's cursor: never the whole flight in memory.
 *
 * Owns the read-ahead: a queue of at most two pages, the next page asked for
 * when the queue falls under one, and starting again from a time (a seek),
 * after which pages of the old position that arrive late are dropped.
 * Reading is asynchronous (the store's); taking is synchronous (the tick's).
 * It never reads a clock and never publishes.
 */
import type { FrameRow, RecorderStore } from "../recorder/store.ts";

/** Frames asked of the store at once. At 10 Hz, a page is 25 s of flight. */
export const replayPageFrames = 250;

export class RecordedFrames {
  private queue: FrameRow[] = [];
  /** The last frame queued: the next page starts after it. */
  private after: { time: number; seq: number } | undefined;
  /** Frames at or after this time, ms (where the replay started or last sought). */
  private from: number;
  /** Whether the store has no more frames past `after`. */
  private exhausted = false;
  private loading = false;
  /** Bumped by every restart: a page read for an older generation is dropped. */
  private generation = 0;
  /** Why the last page could not be read, until one is (the replay waits; the next take asks again). */
  readError: string | null = null;
  /** Settles once the first page was read (or could not be): a replay starts its clock then, so its first frame is not late. */
  readonly firstPage: Promise<void>;
  private firstPageSettled: () => void = () => {};

  constructor(
    private readonly store: RecorderStore,
    private readonly flightId: string,
    fromMs: number,
  ) {
    this.from = fromMs;
    this.firstPage = new Promise((resolve) => (this.firstPageSettled = resolve));
    this.fill();
  }

  /** Whether every frame up to the flight's end was taken. */
  get done(): boolean {
    return this.exhausted && this.queue.length === 0;
  }

  /** Frames recorded at or before `untilMs`, oldest first, taken off the queue (those not read yet come on a later take). */
  take(untilMs: number): FrameRow[] {
    let count = 0;
    while (count < this.queue.length && this.queue[count]!.time <= untilMs) count++;
    const taken = count === 0 ? [] : this.queue.splice(0, count);
    this.fill();
    return taken;
  }

  /** The next frame, whether due or not (after a seek, what the vehicle looks like there), or null while none is read. */
  takeNext(): FrameRow | null {
    const next = this.queue.shift() ?? null;
    this.fill();
    return next;
  }

  /** Starts again from frames at or after `fromMs`. */
  restart(fromMs: number): void {
    this.generation++;
    this.queue = [];
    this.after = undefined;
    this.from = fromMs;
    this.exhausted = false;
    this.loading = false;
    this.fill();
  }

  /** Asks for the next page when the queue holds less than a page and none is on its way. */
  private fill(): void {
    if (this.loading || this.exhausted || this.queue.length >= replayPageFrames) return;
    this.loading = true;
    const generation = this.generation;
    const query = { flightId: this.flightId, from: this.from, limit: replayPageFrames, ...(this.after === undefined ? {} : { after: this.after }) };
    this.store.frames(query).then(
      (page) => {
        this.firstPageSettled();
        if (generation !== this.generation) return;
        this.loading = false;
        this.readError = null;
        this.queue.push(...page);
        const last = page.at(-1);
        if (last !== undefined) this.after = { time: last.time, seq: last.seq };
        if (page.length < replayPageFrames) this.exhausted = true;
        else this.fill();
      },
      (error: unknown) => {
        this.firstPageSettled();
        if (generation !== this.generation) return;
        this.loading = false;
        this.readError = error instanceof Error ? error.message : String(error);
      },
    );
  }
}
