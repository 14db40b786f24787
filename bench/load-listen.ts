/**
 * The load generator's listening behaviour: each connection sends its
 * opening messages (e.g. a `subscribe`), waits for the server's replies, then
 * only reads. Telemetry deliveries are counted, timed against the send time
 * they carry, and checked for lost frames by seq; other messages (welcome,
 * acks) are counted as replies. With no opening messages and no telemetry
 * this is simply an idle connection (the memory scenarios).
 *
 * Socket.IO's keep-alive is answered here too: the server's Engine.IO ping
 * `2` gets a pong `3` and is not a reply, and a connect error or disconnect
 * (`44…`, `41`) during the opening exchange fails the run like skyport's
 * error (socketio-wire.ts).
 *
 * One clock read per TCP chunk, and one latency record per run of messages
 * in a chunk with the same send time (a tick's frames); no allocation per
 * message (see messages.ts and telemetry-frames.ts), except that a message compressed
 * with permessage-deflate (`--deflate`) is inflated first: its bytes on the
 * wire are what `payloadBytes` counts.
 */
import { constants, inflateRawSync } from "node:zlib";
import { coarseLimitMicros, LatencyHistogram, percentile, type HistogramSnapshot } from "./histogram.ts";
import type { BehaviourResult, Connection, LoadBehaviour, TelemetryTally } from "./load-behaviour.ts";
import { MessageReader, type MessageHandler } from "./messages.ts";
import { SeqTracker, streamHeads } from "./seq-tracker.ts";
import { isPing, isRefusal, pongMessage } from "./socketio-wire.ts";
import { TelemetryScanner } from "./telemetry-frames.ts";
import { encodeFrame, opcodes } from "../tests/support/frames.ts";

/** How often `settled` checks whether every connection has its replies. */
const settlePollMilliseconds = 10;
/**
 * The grace after stop is at least this many times the window's p99: a
 * server whose one burst takes longer to fan out than the fixed grace (the
 * Socket.IO peer: 100 frames to 1,000 sockets take up to 0.9 s) still has
 * its frames in flight, late rather than lost.
 */
const graceP99Multiple = 2;
/** Upper bound on the grace after stop, whatever the p99. */
const maxGraceMilliseconds = 5000;
/** Start of a server's error reply; any during the opening exchange fails the run. */
const errorReplyPrefix = '{"type":"error"';

export interface ListenOptions {
  /** Text messages every connection sends once upgraded. */
  openingMessages: string[];
  /** Non-telemetry messages (welcome, acks) every connection must receive before it counts as settled. */
  replies: number;
  /**
   * After stop, keep reading at least this long before judging loss, so that
   * frames published just before stop are not counted as lost merely for
   * being in flight; longer when the window's own p99 says frames take
   * longer (see `graceFor`).
   */
  graceMilliseconds: number;
}

export interface ListenState {
  reader: MessageReader;
  tracker: SeqTracker;
  onMessage: MessageHandler;
  replies: number;
  /** Tracker loss count at the mark, so that the window's loss is the difference. */
  lostAtMark: number;
  /** Opening bytes not yet accepted by the socket. */
  pending: Uint8Array;
}

export class ListenLoad implements LoadBehaviour<ListenState> {
  private readonly scanner = new TelemetryScanner();
  private readonly histogram = new LatencyHistogram();
  private readonly opening: Uint8Array;
  /** The masked Engine.IO pong, encoded once. */
  private readonly pong: Uint8Array;
  /** The connection whose chunk is being read, for answers sent from inside `onMessage`. */
  private reading: Connection<ListenState> | null = null;
  /** Epoch milliseconds (µs precision) when the current chunk arrived. */
  private chunkArrivedMs = 0;
  /** Send time of the run of messages of the current chunk whose latency is not recorded yet, and how many they are. */
  private sameTimeMs = 0;
  private sameTimeCount = 0;
  private counting = false;
  /** The newest seq of each stream at the mark (-1 where none was seen yet). */
  private headsAtMark: Float64Array = new Float64Array(0);
  private deliveries = 0;
  private droneFrames = 0;
  private payloadBytes = 0;
  private firstError: string | null = null;
  /** The first malformed message (thrown by the reader or scanner); reported instead of a result. */
  private failure: Error | null = null;

  constructor(private readonly options: ListenOptions) {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const frames = options.openingMessages.map((text) => encodeFrame({ opcode: opcodes.text, payload: text, maskKey: mask }));
    this.opening = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
    this.pong = encodeFrame({ opcode: opcodes.text, payload: pongMessage, maskKey: mask });
    let offset = 0;
    for (const frame of frames) {
      this.opening.set(frame, offset);
      offset += frame.length;
    }
  }

  newState(): ListenState {
    const state: ListenState = {
      reader: new MessageReader(),
      tracker: new SeqTracker(),
      onMessage: (opcode, bytes, start, end, compressed) => this.onMessage(state, opcode, bytes, start, end, compressed),
      replies: 0,
      lostAtMark: 0,
      pending: this.opening,
    };
    return state;
  }

  upgraded(c: Connection<ListenState>, rest: Uint8Array): void {
    this.drain(c);
    if (rest.length > 0) this.data(c, Buffer.from(rest.buffer, rest.byteOffset, rest.length));
  }

  data(c: Connection<ListenState>, chunk: Buffer): void {
    this.chunkArrivedMs = performance.timeOrigin + performance.now();
    this.reading = c;
    try {
      c.state.reader.feed(chunk, c.state.onMessage);
    } catch (error) {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
    } finally {
      this.reading = null;
      this.recordLatencies();
    }
  }

  /** Records the run of messages with the same send time that the chunk ended with (see `sameTimeCount`). */
  private recordLatencies(): void {
    if (this.sameTimeCount === 0) return;
    this.histogram.record(Math.max(0, (this.chunkArrivedMs - this.sameTimeMs) * 1000), this.sameTimeCount);
    this.sameTimeCount = 0;
  }

  /** Queues `frame` after whatever this connection has not sent yet, and sends what the socket takes. */
  private send(c: Connection<ListenState>, frame: Uint8Array): void {
    const s = c.state;
    if (s.pending.length === 0) s.pending = frame;
    else {
      const joined = new Uint8Array(s.pending.length + frame.length);
      joined.set(s.pending);
      joined.set(frame, s.pending.length);
      s.pending = joined;
    }
    this.drain(c);
  }

  drain(c: Connection<ListenState>): void {
    const s = c.state;
    if (s.pending.length === 0) return;
    const written = c.socket!.write(s.pending);
    if (written > 0) s.pending = s.pending.subarray(written);
  }

  async settled(connections: readonly Connection<ListenState>[], timeoutMilliseconds: number): Promise<void> {
    const deadline = performance.now() + timeoutMilliseconds;
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.firstError !== null) throw new Error(`the server refused an opening message: ${this.firstError}`);
      const waiting = connections.filter((c) => c.state.replies < this.options.replies).length;
      if (waiting === 0) return;
      if (performance.now() > deadline) {
        throw new Error(`${waiting} of ${connections.length} connections did not get their ${this.options.replies} replies within ${timeoutMilliseconds} ms`);
      }
      await Bun.sleep(settlePollMilliseconds);
    }
  }

  start(): void {
    // Listeners never send after the opening exchange.
  }

  mark(connections: readonly Connection<ListenState>[]): void {
    for (const c of connections) c.state.lostAtMark = c.state.tracker.lost;
    this.headsAtMark = streamHeads(connections.map((c) => c.state.tracker), this.scanner.drones.size);
    this.deliveries = 0;
    this.droneFrames = 0;
    this.payloadBytes = 0;
    this.histogram.reset();
    this.counting = true;
  }

  async stop(connections: readonly Connection<ListenState>[]): Promise<BehaviourResult> {
    this.counting = false;
    const messages = this.deliveries;
    const { droneFrames, payloadBytes } = this;
    const latency = this.histogram.snapshot();
    const trackers = connections.map((c) => c.state.tracker);
    const heads = streamHeads(trackers, this.scanner.drones.size);
    const produced = framesProduced(this.headsAtMark, heads);
    await Bun.sleep(graceFor(latency, this.options.graceMilliseconds));
    if (this.failure) throw this.failure;
    return { messages, latency, telemetry: { ...tally(connections, heads, droneFrames, payloadBytes), streamFramesProduced: produced } };
  }

  private onMessage(s: ListenState, opcode: number, bytes: Buffer, start: number, end: number, compressed: boolean): void {
    if (!compressed) return this.read(s, opcode, bytes, start, end, end - start);
    const inflated = inflateMessage(bytes, start, end);
    this.read(s, opcode, inflated, 0, inflated.length, end - start);
  }

  /** One message as the server meant it (`bytes[start, end)`), which took `wireBytes` on the wire. */
  private read(s: ListenState, opcode: number, bytes: Buffer, start: number, end: number, wireBytes: number): void {
    const kind = this.scanner.read(opcode, bytes, start, end);
    if (kind === "other") {
      if (opcode !== opcodes.text) return;
      if (isPing(bytes, start, end)) {
        if (this.reading) this.send(this.reading, this.pong);
        return;
      }
      s.replies++;
      const refused = isRefusal(bytes, start, end) || bytes.toString("utf8", start, Math.min(end, start + errorReplyPrefix.length)) === errorReplyPrefix;
      if (this.firstError === null && refused) this.firstError = bytes.toString("utf8", start, Math.min(end, start + 300));
      return;
    }
    const scan = this.scanner.scan;
    for (let i = 0; i < scan.count; i++) s.tracker.record(scan.slots[i]!, scan.seqs[i]!);
    if (!this.counting) return;
    this.deliveries++;
    this.droneFrames += scan.count;
    this.payloadBytes += wireBytes;
    // A tick's frames share its send time and mostly arrive in one chunk: one histogram entry per run of them, the same figures.
    if (scan.timeMs !== this.sameTimeMs) {
      this.recordLatencies();
      this.sameTimeMs = scan.timeMs;
    }
    this.sameTimeCount++;
  }
}

/** The tail a permessage-deflate sender strips from each message (RFC 7692 §7.2.1), put back before inflating. */
const deflateTail = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** One compressed message's payload, inflated (each stands alone: no context takeover was offered). */
function inflateMessage(bytes: Buffer, start: number, end: number): Buffer {
  return inflateRawSync(Buffer.concat([bytes.subarray(start, end), deflateTail]), { finishFlush: constants.Z_SYNC_FLUSH });
}

/** How long to keep reading after stop: the fixed grace, or `graceP99Multiple` times the window's p99, at most `maxGraceMilliseconds`. */
export function graceFor(latency: HistogramSnapshot, graceMilliseconds: number): number {
  const p99 = latency.count > 0 ? percentile(latency, 0.99) : 0;
  // A p99 in the histogram's overflow bucket reads as its floor: the slowest frame says how slow.
  const p99Milliseconds = (p99 >= coarseLimitMicros ? latency.maxMicros : p99) / 1000;
  return Math.min(maxGraceMilliseconds, Math.max(graceMilliseconds, graceP99Multiple * p99Milliseconds));
}

/** How far the streams seen at the mark advanced by the end (`heads`), summed: the frames their source produced meanwhile. */
export function framesProduced(headsAtMark: Float64Array, heads: Float64Array): number {
  let produced = 0;
  for (let slot = 0; slot < headsAtMark.length; slot++) {
    if (headsAtMark[slot]! >= 0 && heads[slot]! > headsAtMark[slot]!) produced += heads[slot]! - headsAtMark[slot]!;
  }
  return produced;
}

/** The window's fan-out figures once the grace period is over. */
function tally(connections: readonly Connection<ListenState>[], heads: Float64Array, droneFrames: number, payloadBytes: number): Omit<TelemetryTally, "streamFramesProduced"> {
  const result: Omit<TelemetryTally, "streamFramesProduced"> = {
    subscribers: connections.length,
    droneFrames,
    payloadBytes,
    lostInGaps: 0,
    framesBehind: 0,
    repeated: 0,
    subscribersWithLoss: 0,
    maxLostPerSubscriber: 0,
    silentSubscribers: 0,
    streams: heads.filter((head) => head >= 0).length,
  };
  for (const c of connections) {
    const tracker = c.state.tracker;
    if (!tracker.seenAny) {
      result.silentSubscribers++;
      continue;
    }
    const gaps = tracker.lost - c.state.lostAtMark;
    const behind = tracker.framesBehind(heads);
    result.lostInGaps += gaps;
    result.framesBehind += behind;
    result.repeated += tracker.repeated;
    if (gaps + behind > 0) result.subscribersWithLoss++;
    result.maxLostPerSubscriber = Math.max(result.maxLostPerSubscriber, gaps + behind);
  }
  return result;
}
