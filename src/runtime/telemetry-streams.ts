/**
 * One telemetry stream per vehicle: its seq, its epoch, its replay buffer,
 * and publishing its frames (and its leases and events) to this node's
 * subscribers, plus the all-vehicles batch while anyone here watches `*`
 * (in full, or restricted to the vehicles a client's identity may view).
 *
 * A stream is (epoch, seq), as Centrifugo's (epoch, offset): seqs are
 * comparable only within one epoch. A stream gets a fresh random epoch when
 * its seq starts from nothing here; it keeps the epoch of the frames it
 * carries on from (history read back from Redis, frames another node
 * publishes, a takeover). A resume that names another epoch is a reset,
 * never a splice. When a stream changes epoch while viewers watch (the
 * node flying it started a new stream), they are told with `stream_reset`;
 * when frames of the same epoch skip seqs here, with `frames_lost`; frames
 * they missed that shared storage still has are published to them when read
 * back, in order.
 *
 * Streams of vehicles that come and go (a replay of a recorded flight) are
 * added and removed while the server runs; such a stream is seen by a
 * restricted `*` view when the view holds the vehicle it stands for (a
 * replay, the vehicle that flew the recorded flight).
 *
 * Frames come from two places: vehicles flown here (seq assigned here) and,
 * in a cluster, frames another node published (seq as received: duplicates
 * dropped, a gap starts the buffer again and is announced). Publishing goes
 * through a `Publisher` (Bun's server is one); this module never sees a
 * socket and never reads a clock. Throttled subscriptions (`maxHz`) get
 * frames through `throttled` and leases and events on each topic's notice
 * topic; live frames only (a frame read back from storage is past, and a
 * throttled viewer wants the latest).
 */
import type { TickEntry } from "./cluster/broker.ts";
import { ReplayBuffer, type ReplayPlan } from "../core/telemetry/replay-buffer.ts";
import { encodeMessage, telemetryBatch, telemetryFrame } from "../../protocol/index.ts";
import { fleetTopic, fleetViewTopic, noticeTopic, telemetryTopic } from "./topics.ts";
import { ThrottledViewers } from "./throttled-viewers.ts";

/** Where frames go: topics with subscribers. `Bun.serve`'s server fits as is. */
export interface Publisher {
  publish(topic: string, text: string): unknown;
  subscriberCount(topic: string): number;
}

/**
 * Random bytes in a stream epoch: 64 bits, so two streams of one vehicle
 * never share an epoch by chance (11 base64url characters on the wire).
 */
const epochBytes = 8;

/** A fresh stream epoch: `epochBytes` random bytes as base64url. */
export function randomEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(epochBytes));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

interface Stream {
  /** Seq of the last frame published, -1 before the first. */
  seq: number;
  /** The epoch `seq` counts in. */
  epoch: string;
  buffer: ReplayBuffer;
  /** The seq a restart carried the stream on after (`resume`), until the stream starts again. */
  restoredSeq?: number;
  /** For a stream added while running: the vehicle whose viewers may see it (a replay's recorded vehicle). */
  viewAs?: string;
}

export class TelemetryStreams {
  private readonly streams = new Map<string, Stream>();
  private publisher: Publisher | null = null;
  /**
   * Restricted all-vehicles views, by topic: the vehicles each carries. A
   * client that may view only some vehicles watches `*` on its view's topic,
   * so the others never reach it (not in its batch, not their leases or
   * events). One per distinct set of viewable vehicles, kept while the
   * server runs: as many as the distinct rights tokens grant.
   */
  private readonly views = new Map<string, ReadonlySet<string>>();
  /** Viewers that asked for fewer frames than the telemetry rate, per topic: offered each live frame after its pub/sub publish. */
  readonly throttled = new ThrottledViewers();

  /**
   * @param replayFrames frames each buffer keeps, e.g. telemetry Hz x seconds of history.
   * @param newEpoch where fresh epochs come from (random by default; tests pass their own).
   */
  constructor(
    ids: readonly string[],
    private readonly replayFrames: number,
    private readonly newEpoch: () => string = randomEpoch,
  ) {
    for (const id of ids) this.streams.set(id, { seq: -1, epoch: newEpoch(), buffer: new ReplayBuffer(replayFrames) });
  }

  /**
   * A stream for a vehicle that comes while running (a replay), in a fresh
   * epoch; restricted `*` views that hold `viewAs` carry it.
   * @throws RangeError when the id already has a stream.
   */
  add(id: string, viewAs: string): void {
    if (this.streams.has(id)) throw new RangeError(`a telemetry stream for ${JSON.stringify(id)} already exists`);
    this.streams.set(id, { seq: -1, epoch: this.newEpoch(), buffer: new ReplayBuffer(this.replayFrames), viewAs });
  }

  /** Forgets a stream added with `add`: its vehicle is gone. */
  remove(id: string): void {
    if (this.streams.get(id)?.viewAs !== undefined) this.streams.delete(id);
  }

  /** Whether anybody on this node watches the vehicle, at full rate or throttled: on its own topic, on `*`, or through a view that holds it. */
  watched(id: string): boolean {
    const publisher = this.publisher;
    if (publisher === null) return false;
    if (this.topicWatched(publisher, telemetryTopic(id)) || this.topicWatched(publisher, fleetTopic)) return true;
    const viewAs = this.viewAsOf(id);
    for (const [topic, drones] of this.views) if (drones.has(viewAs) && this.topicWatched(publisher, topic)) return true;
    return false;
  }

  /**
   * A message that a vehicle came or went (already JSON): to its own viewers,
   * the viewers of the vehicle it stands for, and every `*` watcher allowed to see it.
   */
  announceVehicle(id: string, text: string): void {
    this.publisher?.publish(telemetryTopic(id), text);
    const viewAs = this.viewAsOf(id);
    if (viewAs !== id) this.publisher?.publish(telemetryTopic(viewAs), text);
    this.publishToFleet(id, text);
  }

  /** The vehicle whose viewers may see this stream: its own id, or a replay's recorded vehicle. */
  private viewAsOf(id: string): string {
    return this.streams.get(id)?.viewAs ?? id;
  }

  /** The topic of the all-vehicles batch restricted to `drones` (made on first use). */
  fleetView(drones: readonly string[]): string {
    const topic = fleetViewTopic(drones);
    if (!this.views.has(topic)) this.views.set(topic, new Set(drones));
    return topic;
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

  /** The epoch the stream's seqs count in. */
  epoch(id: string): string {
    return this.stream(id).epoch;
  }

  /** The seq the next frame of a vehicle flown here takes. */
  nextSeq(id: string): number {
    return this.stream(id).seq + 1;
  }

  /**
   * What a subscriber resuming after `since` must be sent. A `since` of
   * another epoch (`epoch` given and not this stream's) is a reset: its seq
   * says nothing about this stream.
   */
  replay(id: string, since: number, epoch?: string): ReplayPlan {
    const stream = this.stream(id);
    if (epoch !== undefined && epoch !== stream.epoch) return { frames: [], lost: 0, reset: true };
    const plan = stream.buffer.since(since);
    // Before the first frame after a restart, a `since` the stopped process reached is not ahead of the stream: what lies between is lost.
    if (plan.reset && stream.restoredSeq !== undefined && since <= stream.restoredSeq) return { frames: [], lost: stream.restoredSeq - since, reset: false };
    return plan;
  }

  /** One tick of frames of vehicles flown here (seqs from `nextSeq`, epochs from `epoch`): buffered and published. */
  publishOwn(timeMs: number, entries: readonly TickEntry[]): void {
    const batch = this.startBatch();
    for (const entry of entries) {
      const stream = this.stream(entry.drone);
      stream.seq = entry.seq;
      this.record(stream, entry, batch, timeMs);
    }
    this.publishBatch(timeMs, batch);
  }

  /**
   * One tick of frames another node published: seen ones are dropped; a gap
   * starts the buffer again and is announced to this node's viewers
   * (`frames_lost`); frames of another epoch start the stream again and are
   * announced (`stream_reset`). Returns those taken.
   */
  publishMirrored(timeMs: number, entries: readonly TickEntry[]): TickEntry[] {
    const batch = this.startBatch();
    const taken: TickEntry[] = [];
    for (const entry of entries) {
      const stream = this.streams.get(entry.drone);
      if (stream && this.take(stream, entry, batch, timeMs)) taken.push(entry);
    }
    this.publishBatch(timeMs, batch);
    return taken;
  }

  /**
   * Frames read back from shared storage (a node that starts late,
   * reconnects, or takes the vehicle over), oldest first. Only the newest
   * epoch's run is kept; one that is not this stream's epoch is what the
   * node flying the vehicle writes now, so the stream carries on from it
   * (announced to viewers who saw the old one). Frames older than those
   * published here fill the buffer; newer ones are frames this node's live
   * viewers never got: published to them now, in order, after a
   * `frames_lost` for any seqs still missing before them.
   */
  backfill(id: string, history: readonly TickEntry[]): void {
    const stream = this.streams.get(id);
    if (!stream || history.length === 0) return;
    const epoch = history.at(-1)!.epoch;
    let from = history.length - 1;
    while (from > 0 && history[from - 1]!.epoch === epoch) from--;
    const run = from === 0 ? history : history.slice(from);
    if (epoch !== undefined && epoch !== stream.epoch) this.restart(id, stream, epoch, "its history in shared storage is of a new stream");
    const sent = stream.seq;
    const older = sent < 0 ? run : run.filter((entry) => entry.seq <= sent);
    stream.buffer.backfill(older.map((entry) => ({ seq: entry.seq, frame: telemetryFrame(entry.dataJson) })));
    if (sent < 0) {
      stream.seq = stream.buffer.latest() ?? -1;
      return;
    }
    // Frames of the vehicle this node's viewers are watching, newer than the last one they got: sent as single
    // frames on both topics (the `*` batch is per tick, and these are of past ticks), as a resume replays them.
    for (const entry of run) if (entry.seq > sent) this.take(stream, entry, null, null, true);
  }

  /** This node carries the stream on from `seq` (a takeover), in its epoch: a buffer that does not end there starts again, and frames its viewers never got are announced. */
  continueFrom(id: string, seq: number): void {
    const stream = this.stream(id);
    const latest = stream.buffer.latest();
    if (stream.seq >= 0 && seq > stream.seq) this.lose(id, stream, seq + 1);
    else if (latest !== null && latest !== seq) stream.buffer.clear();
    stream.seq = seq;
  }

  /**
   * This node carries the stream on but cannot show that nobody else
   * published in its epoch meanwhile (its claim lapsed and shared storage
   * lost what came after; see docs/scaling.md): the stream gets a fresh
   * epoch, so one (epoch, seq) never names two different frames. Seq goes
   * on; the buffer starts empty, and viewers are told with a `stream_reset`.
   */
  fork(id: string, why: string): void {
    const stream = this.stream(id);
    const seq = stream.seq;
    this.restart(id, stream, this.newEpoch(), why);
    stream.seq = seq;
  }

  /**
   * Carries a stream on after a restart in the epoch the flight recorder
   * kept, with seq going on after `seq` (past every seq the stopped process
   * may have published): the buffer starts empty, and a resume from before
   * `seq` hears the frames in between as lost, never as a reset.
   */
  resume(id: string, epoch: string, seq: number): void {
    const stream = this.stream(id);
    stream.epoch = epoch;
    stream.buffer.clear();
    stream.seq = seq;
    stream.restoredSeq = seq;
  }

  /** A lease or event (already JSON) to this node's viewers of the vehicle and of every vehicle, throttled or not. */
  publishNotice(id: string, text: string): void {
    this.publishWithNotices(telemetryTopic(id), text);
    this.publishToFleet(id, text, true);
  }

  /** A message about one vehicle to every `*` watcher allowed to see it: the full topic and each view holding it (and their notice topics for a notice). */
  private publishToFleet(id: string, text: string, notice = false): void {
    const publish = notice ? (topic: string) => this.publishWithNotices(topic, text) : (topic: string) => this.publisher?.publish(topic, text);
    publish(fleetTopic);
    const viewAs = this.viewAsOf(id);
    for (const [topic, drones] of this.views) if (drones.has(viewAs)) publish(topic);
  }

  /** A notice on `topic` and, when throttled viewers listen there, on its notice topic. */
  private publishWithNotices(topic: string, text: string): void {
    const publisher = this.publisher;
    if (publisher === null) return;
    publisher.publish(topic, text);
    if (this.throttled.watching(topic)) publisher.publish(noticeTopic(topic), text);
  }

  private stream(id: string): Stream {
    const stream = this.streams.get(id);
    if (!stream) throw new RangeError(`no telemetry stream for ${JSON.stringify(id)}`);
    return stream;
  }

  /**
   * One frame another node published, taken into the stream unless already
   * seen: of another epoch, the stream starts again; after a gap, the gap is
   * announced. Returns whether it was taken.
   */
  private take(stream: Stream, entry: TickEntry, batch: BatchEntry[] | null, timeMs: number | null, singleToFleet = false): boolean {
    if (entry.epoch !== undefined && entry.epoch !== stream.epoch) {
      this.restart(entry.drone, stream, entry.epoch, "the node flying it started a new stream");
    } else if (stream.seq >= 0) {
      if (entry.seq <= stream.seq) return false; // already seen
      if (entry.seq !== stream.seq + 1) this.lose(entry.drone, stream, entry.seq);
    }
    stream.seq = entry.seq;
    const frame = this.record(stream, entry, batch, timeMs);
    if (singleToFleet) this.publishToFleet(entry.drone, frame);
    return true;
  }

  /** The stream starts again in `epoch`: its buffer and seq are of another stream, and viewers are told. */
  private restart(id: string, stream: Stream, epoch: string, why: string): void {
    const previous = stream.epoch;
    const latestSeq = stream.seq < 0 ? null : stream.seq;
    stream.epoch = epoch;
    stream.seq = -1;
    stream.restoredSeq = undefined;
    stream.buffer.clear();
    const message = `${id}'s telemetry stream changed from epoch ${previous} to ${epoch} (${why}): count seq afresh from the frames that follow`;
    this.publishNotice(id, encodeMessage("event", { drone: id, kind: "stream_reset", message, latestSeq, epoch }));
  }

  /** Frames after the stream's seq and before `nextSeq` never reached this node: the buffer starts again, and viewers are told. */
  private lose(id: string, stream: Stream, nextSeq: number): void {
    const from = stream.seq + 1;
    const to = nextSeq - 1;
    const lost = to - from + 1;
    stream.buffer.clear();
    const message = `${lost} frames of ${id} (seq ${from} to ${to}) never reached this node: they are lost`;
    this.publishNotice(id, encodeMessage("event", { drone: id, kind: "frames_lost", message, lost, from, to }));
  }

  /**
   * Buffers a frame and publishes it to the vehicle's topic (and into
   * `batch`), and offers it to the topic's throttled viewers when it is live
   * (`timeMs`, the tick's time; null for a past frame); returns the `telemetry` message.
   */
  private record(stream: Stream, entry: TickEntry, batch: BatchEntry[] | null, timeMs: number | null): string {
    const frame = telemetryFrame(entry.dataJson);
    stream.buffer.push(entry.seq, frame);
    const topic = telemetryTopic(entry.drone);
    this.publisher?.publish(topic, frame);
    if (timeMs !== null && this.throttled.any) this.throttled.offer(topic, frame, timeMs);
    batch?.push({ drone: entry.drone, dataJson: entry.dataJson });
    return frame;
  }

  /** A tick's all-vehicles batch to fill with frames' JSON, or null while nobody here watches `*` (in full or through a view, at full rate or throttled). */
  private startBatch(): BatchEntry[] | null {
    const publisher = this.publisher;
    if (publisher === null) return null;
    if (this.topicWatched(publisher, fleetTopic)) return [];
    for (const topic of this.views.keys()) if (this.topicWatched(publisher, topic)) return [];
    return null;
  }

  /** Whether anyone here watches a `*` topic: a pub/sub subscriber or a throttled viewer. */
  private topicWatched(publisher: Publisher, topic: string): boolean {
    return publisher.subscriberCount(topic) > 0 || this.throttled.watching(topic);
  }

  /** Publishes a filled batch to this node's `*` watchers, each view its own vehicles' frames; the frames' JSON is joined, not serialised again. */
  private publishBatch(timeMs: number, batch: BatchEntry[] | null): void {
    const publisher = this.publisher;
    if (publisher === null || batch === null || batch.length === 0) return;
    if (this.topicWatched(publisher, fleetTopic)) this.publishBatchOn(publisher, fleetTopic, telemetryBatch(timeMs, batch.map((entry) => entry.dataJson)), timeMs);
    for (const [topic, drones] of this.views) {
      if (!this.topicWatched(publisher, topic)) continue;
      const frames = batch.filter((entry) => drones.has(this.viewAsOf(entry.drone))).map((entry) => entry.dataJson);
      if (frames.length > 0) this.publishBatchOn(publisher, topic, telemetryBatch(timeMs, frames), timeMs);
    }
  }

  /** One batch to a `*` topic's pub/sub subscribers and its throttled viewers. */
  private publishBatchOn(publisher: Publisher, topic: string, text: string, timeMs: number): void {
    if (publisher.subscriberCount(topic) > 0) publisher.publish(topic, text);
    this.throttled.offer(topic, text, timeMs);
  }
}

/** One vehicle's frame in a tick's batch. */
interface BatchEntry {
  drone: string;
  dataJson: string;
}
