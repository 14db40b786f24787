/**
 * One telemetry stream per vehicle: its seq, its replay buffer, and
 * publishing its frames (and its leases and events) to this node's
 * subscribers, plus the all-vehicles batch while anyone here watches `*`.
 *
 * Frames come from two places: vehicles flown here (seq assigned here) and,
 * in a cluster, frames another node published (seq as received: duplicates
 * dropped, a gap starts the buffer again). Publishing goes through a
 * `Publisher` (Bun's server is one); this module never sees a socket and
 * never reads a clock.
 */
import type { TickEntry } from "./cluster/broker.ts";
import { ReplayBuffer, type ReplayPlan } from "../core/telemetry/replay-buffer.ts";
import { telemetryBatch, telemetryFrame } from "../../protocol/index.ts";
import { fleetTopic, telemetryTopic } from "./topics.ts";

/** Where frames go: topics with subscribers. `Bun.serve`'s server fits as is. */
export interface Publisher {
  publish(topic: string, text: string): unknown;
  subscriberCount(topic: string): number;
}

interface Stream {
  /** Seq of the last frame published, -1 before the first. */
  seq: number;
  buffer: ReplayBuffer;
}

export class TelemetryStreams {
  private readonly streams = new Map<string, Stream>();
  private publisher: Publisher | null = null;

  /** @param replayFrames frames each buffer keeps, e.g. telemetry Hz x seconds of history. */
  constructor(ids: readonly string[], replayFrames: number) {
    for (const id of ids) this.streams.set(id, { seq: -1, buffer: new ReplayBuffer(replayFrames) });
  }

  /** Starts publishing on `publisher`; until then frames are only buffered. */
  attach(publisher: Publisher): void {
    this.publisher = publisher;
  }

  has(id: string): boolean {
    return this.streams.has(id);
  }

  /** Seq of the newest frame, or null before the first. */
  latestSeq(id: string): number | null {
    const seq = this.streams.get(id)?.seq ?? -1;
    return seq < 0 ? null : seq;
  }

  /** The seq the next frame of a vehicle flown here takes. */
  nextSeq(id: string): number {
    return this.stream(id).seq + 1;
  }

  /** What a subscriber resuming after `since` must be sent. */
  replay(id: string, since: number): ReplayPlan {
    return this.stream(id).buffer.since(since);
  }

  /** One tick of frames of vehicles flown here (seqs from `nextSeq`): buffered and published. */
  publishOwn(timeMs: number, entries: readonly TickEntry[]): void {
    const batch = this.startBatch();
    for (const entry of entries) {
      const stream = this.stream(entry.drone);
      stream.seq = entry.seq;
      this.record(stream, entry, batch);
    }
    this.publishBatch(timeMs, batch);
  }

  /**
   * One tick of frames another node published: seen ones are dropped, a gap
   * starts the buffer again (those frames are lost). Returns those taken.
   */
  publishMirrored(timeMs: number, entries: readonly TickEntry[]): TickEntry[] {
    const batch = this.startBatch();
    const taken: TickEntry[] = [];
    for (const entry of entries) {
      const stream = this.streams.get(entry.drone);
      if (!stream) continue;
      const latest = stream.buffer.latest();
      if (latest !== null && entry.seq <= stream.seq) continue; // already seen
      if (latest !== null && entry.seq !== stream.seq + 1) stream.buffer.clear(); // a gap: frames lost
      stream.seq = entry.seq;
      this.record(stream, entry, batch);
      taken.push(entry);
    }
    this.publishBatch(timeMs, batch);
    return taken;
  }

  /** Frames read back from shared storage (a node that starts late, or reconnects), oldest first. */
  backfill(id: string, history: readonly TickEntry[]): void {
    const stream = this.streams.get(id);
    if (!stream || history.length === 0) return;
    stream.buffer.backfill(history.map((entry) => ({ seq: entry.seq, frame: telemetryFrame(entry.dataJson) })));
    stream.seq = Math.max(stream.seq, stream.buffer.latest() ?? -1);
  }

  /** This node carries the stream on from `seq` (a takeover): a buffer that does not end there starts again. */
  continueFrom(id: string, seq: number): void {
    const stream = this.stream(id);
    const latest = stream.buffer.latest();
    if (latest !== null && latest !== seq) stream.buffer.clear();
    stream.seq = seq;
  }

  /** A lease or event (already JSON) to this node's viewers of the vehicle and of every vehicle. */
  publishNotice(id: string, text: string): void {
    this.publisher?.publish(telemetryTopic(id), text);
    this.publisher?.publish(fleetTopic, text);
  }

  private stream(id: string): Stream {
    const stream = this.streams.get(id);
    if (!stream) throw new RangeError(`no telemetry stream for ${JSON.stringify(id)}`);
    return stream;
  }

  private record(stream: Stream, entry: TickEntry, batch: string[] | null): void {
    const frame = telemetryFrame(entry.dataJson);
    stream.buffer.push(entry.seq, frame);
    this.publisher?.publish(telemetryTopic(entry.drone), frame);
    batch?.push(entry.dataJson);
  }

  /** A tick's all-vehicles batch to fill with frames' JSON, or null while nobody here watches `*`. */
  private startBatch(): string[] | null {
    return this.publisher !== null && this.publisher.subscriberCount(fleetTopic) > 0 ? [] : null;
  }

  /** Publishes a filled batch to this node's `*` watchers; the frames' JSON is joined, not serialised again. */
  private publishBatch(timeMs: number, batch: string[] | null): void {
    if (batch && batch.length > 0) this.publisher?.publish(fleetTopic, telemetryBatch(timeMs, batch));
  }
}
