/**
 * Reads the fields the fan-out benchmarks need (send time, and each drone's
 * seq) out of a telemetry message's bytes, without JSON.parse: at a million
 * deliveries per second, parsing would cost the load generator more than the
 * server spends sending.
 *
 * Three message shapes count as telemetry:
 * - skyport `{"type":"telemetry","data":{"drone":"alpha","seq":48,"time":1763712000123,...}}`
 * - skyport `{"type":"telemetry_batch","data":{"time":1763712000123,"frames":[{"drone":..,"seq":..},...]}}`
 * - the Socket.IO peer (bench/reference/socketio-publish.mjs), a stream per
 *   room: the event `42["telemetry",{"drone":"t0","seq":48,"time":1763712000123,"pad":…}]`
 *   (socketio-wire.ts owns the framing);
 * - bench/reference/bun-publish.ts, a stream per topic: a text frame `R` +
 *   the send time in 16 digits of epoch µs + the topic in 4 digits + the seq
 *   in 10 + padding, or a binary frame starting with the send time (float64
 *   LE, epoch ms), the seq (uint32 LE) and the topic (uint16 LE).
 * Everything else (welcome, ack, lease, event, error) is "other".
 *
 * skyport's `time` is whole milliseconds (`Date.now()`, which truncates), so
 * the reference's time is truncated the same way: both latencies then carry
 * the same bias of 0 to 1 ms (0.5 ms on average).
 *
 * Pure: bytes in, fields out, into a reused `TelemetryScan` so the hot path
 * allocates nothing. No sockets, no clock.
 */
import { opcodes } from "../tests/support/frames.ts";
import { eventPayloadStart, eventPrefix } from "./socketio-wire.ts";

export type MessageKind = "telemetry" | "batch" | "reference" | "other";

const encoder = new TextEncoder();
const bytesOf = (text: string) => Buffer.from(encoder.encode(text));

/** What every skyport telemetry message starts with; the next byte tells a single frame (`"`) from a batch (`_`). */
const typePrefix = bytesOf('{"type":"telemetry');
const singleRest = bytesOf('","data":{"drone":"');
const batchRest = bytesOf('_batch",');
const droneKey = bytesOf('"drone":"');
const seqKey = bytesOf('"seq":');
const timeKey = bytesOf('"time":');
/** What follows a drone id when the fields come in skyport's order: `","seq":`, and `,"time":` after the seq. */
const seqAfterId = bytesOf('","seq":');
const timeAfterSeq = bytesOf(',"time":');
const quote = 0x22;
/** A Socket.IO telemetry event up to its payload, and the payload's opening up to the drone id. */
const socketIoTelemetry = eventPrefix("telemetry");
const socketIoDataHead = bytesOf('{"drone":"');
/** First byte of every Socket.IO message (Engine.IO's `message` type). */
const socketIoMessageMarker = 0x34; // "4"
/** Send time (float64) + seq (uint32) + topic (uint16) at the start of a binary reference frame. */
const referenceHeaderBytes = 14;
/** First byte of a text reference frame, then 16 digits of epoch µs, 4 of topic and 10 of seq. */
const referenceTextMarker = 0x52; // "R"
const referenceTimeDigits = 16;
const referenceTopicDigits = 4;
/** Topics a reference frame can name: binary frames carry a uint16, text frames 4 digits. */
const referenceTopics = 65_536;
const referenceSeqDigits = 10;
/**
 * One JSON telemetry message in this many is also parsed whole and checked
 * against what the scan read: about 3 µs of JSON.parse for a frame, so 3 ns a
 * message on average, while a server that sends malformed telemetry fails
 * within its first thousand messages.
 */
const defaultVerifyEvery = 1024;

/** Name of the reference server's stream for `topic` in the drone table. */
export function referenceStream(topic: number): string {
  return `(reference topic ${topic})`;
}

/**
 * Drone ids seen so far, each given a small integer slot so that per-drone
 * state can live in typed arrays. Ids are looked up by a hash of their bytes
 * and then compared byte for byte, so no string is built per frame.
 */
export class DroneSlots {
  private readonly byHash = new Map<number, number>();
  private readonly idBytes: Uint8Array[] = [];
  readonly ids: string[] = [];

  /** Slot of the id in `bytes[start, end)`, added on first sight. */
  slotOf(bytes: Uint8Array, start: number, end: number): number {
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
    const slot = this.byHash.get(hash);
    // A copy: `bytes` may be a Buffer, whose slice is a view, and the reader reuses its buffers.
    if (slot === undefined) return this.add(hash, Uint8Array.prototype.slice.call(bytes, start, end));
    const known = this.idBytes[slot]!;
    let same = known.length === end - start;
    for (let i = 0; same && i < known.length; i++) same = known[i] === bytes[start + i];
    if (!same) throw new Error(`drone ids ${JSON.stringify(this.ids[slot])} and ${JSON.stringify(new TextDecoder().decode(bytes.subarray(start, end)))} collide in the slot table`);
    return slot;
  }

  /** Slot of an id given as a string (the reference stream). */
  slotOfName(id: string): number {
    const bytes = encoder.encode(id);
    return this.slotOf(bytes, 0, bytes.length);
  }

  get size(): number {
    return this.ids.length;
  }

  private add(hash: number, bytes: Uint8Array): number {
    const slot = this.ids.length;
    this.byHash.set(hash, slot);
    this.idBytes.push(bytes);
    this.ids.push(new TextDecoder().decode(bytes));
    return slot;
  }
}

/** What one telemetry message said. Reused from message to message: read it before the next `read`. */
export class TelemetryScan {
  kind: MessageKind = "other";
  /** Send time, epoch milliseconds (whole). */
  timeMs = 0;
  /** Drone frames in the message: 1, or one per drone in a batch. */
  count = 0;
  slots = new Int32Array(16);
  seqs = new Float64Array(16);

  push(slot: number, seq: number): void {
    if (this.count === this.slots.length) {
      const slots = new Int32Array(this.count * 2);
      slots.set(this.slots);
      this.slots = slots;
      const seqs = new Float64Array(this.count * 2);
      seqs.set(this.seqs);
      this.seqs = seqs;
    }
    this.slots[this.count] = slot;
    this.seqs[this.count] = seq;
    this.count++;
  }
}

/** Reads telemetry messages into `scan`, giving drones slots from `drones`. */
export class TelemetryScanner {
  readonly scan = new TelemetryScan();
  /** Slot of each reference topic's stream, filled on first sight. */
  private readonly referenceSlots = new Int32Array(referenceTopics).fill(-1);
  /** Reused return value of readDroneSeq, so the hot path allocates nothing. */
  private readonly cursor = { seqEnd: 0 };

  /** JSON telemetry messages scanned since the last one parsed whole. */
  private sinceVerified = 0;

  /**
   * @param verifyEvery one JSON telemetry message in this many is parsed whole
   * as well (`read`); the default costs a few ns per message.
   */
  constructor(
    readonly drones = new DroneSlots(),
    private readonly verifyEvery = defaultVerifyEvery,
  ) {
    if (!Number.isInteger(verifyEvery) || verifyEvery < 1) throw new RangeError(`'verifyEvery' must be a positive integer: received ${verifyEvery}`);
  }

  private referenceSlot(topic: number): number {
    // A typed table rather than `number[] ??=`, which profiled at half the load generator's JavaScript on reference frames.
    const slot = this.referenceSlots[topic]!;
    if (slot >= 0) return slot;
    if (topic >= referenceTopics) throw new Error(`reference topic ${topic} is out of range: at most ${referenceTopics - 1}`);
    return (this.referenceSlots[topic] = this.drones.slotOfName(referenceStream(topic)));
  }

  /**
   * Classifies the message in `bytes[start, end)` and, for telemetry, fills
   * `scan`. Fields are read where skyport puts them (drone, seq, time, in
   * that order), checked byte for byte; if the layout differs they are
   * searched for instead, so a reordering costs speed, not correctness.
   * Every `verifyEvery`-th JSON telemetry message is also parsed whole and
   * must say what the scan read: a server sending malformed telemetry fails
   * the run rather than have its frames counted as delivered.
   */
  read(opcode: number, bytes: Buffer, start: number, end: number): MessageKind {
    const kind = this.scanMessage(opcode, bytes, start, end);
    if ((kind === "telemetry" || kind === "batch") && ++this.sinceVerified >= this.verifyEvery) {
      this.sinceVerified = 0;
      this.verify(bytes, start, end);
    }
    return kind;
  }

  /** Parses the JSON telemetry message the scan just read, and throws unless it holds the same time, drones and seqs. */
  private verify(bytes: Buffer, start: number, end: number): void {
    const scan = this.scan;
    const socketIoPayload = bytes[start] === socketIoMessageMarker ? eventPayloadStart(bytes, start, end, socketIoTelemetry) : -1;
    const text = socketIoPayload >= 0 ? bytes.toString("utf8", socketIoPayload, end - 1) : bytes.toString("utf8", start, end);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(`telemetry that is not JSON (${error instanceof Error ? error.message : String(error)}): ${preview(bytes, start, end)}`);
    }
    const fields = telemetryFields(socketIoPayload >= 0 ? { data: parsed } : parsed);
    const read = Array.from({ length: scan.count }, (_, i) => ({ drone: this.drones.ids[scan.slots[i]!], seq: scan.seqs[i] }));
    if (fields === null || fields.time !== scan.timeMs || JSON.stringify(fields.frames) !== JSON.stringify(read)) {
      throw new Error(`telemetry whose JSON says ${JSON.stringify(fields)} but whose bytes read ${JSON.stringify({ time: scan.timeMs, frames: read })}: ${preview(bytes, start, end)}`);
    }
  }

  private scanMessage(opcode: number, bytes: Buffer, start: number, end: number): MessageKind {
    const scan = this.scan;
    scan.count = 0;
    if (opcode === opcodes.binary) {
      if (end - start < referenceHeaderBytes) return (scan.kind = "other");
      scan.timeMs = Math.floor(bytes.readDoubleLE(start));
      scan.push(this.referenceSlot(bytes.readUInt16LE(start + 12)), bytes.readUInt32LE(start + 8));
      return (scan.kind = "reference");
    }
    if (opcode !== opcodes.text) return (scan.kind = "other");
    if (bytes[start] === referenceTextMarker && end - start >= 1 + referenceTimeDigits + referenceTopicDigits + referenceSeqDigits) {
      const timeAt = start + 1;
      const topicAt = timeAt + referenceTimeDigits;
      const seqAt = topicAt + referenceTopicDigits;
      scan.timeMs = Math.floor(fixedDigitsAt(bytes, timeAt, referenceTimeDigits) / 1000);
      scan.push(this.referenceSlot(fixedDigitsAt(bytes, topicAt, referenceTopicDigits)), fixedDigitsAt(bytes, seqAt, referenceSeqDigits));
      return (scan.kind = "reference");
    }
    if (bytes[start] === socketIoMessageMarker) return this.readSocketIo(bytes, start, end);
    if (!matchAt(bytes, start, end, typePrefix)) return (scan.kind = "other");
    const afterType = start + typePrefix.length;
    if (matchAt(bytes, afterType, end, singleRest)) {
      const at = this.readDroneSeq(bytes, afterType + singleRest.length - droneKey.length, end);
      scan.timeMs = matchAt(bytes, at.seqEnd, end, timeAfterSeq) ? digitsAt(bytes, at.seqEnd + timeAfterSeq.length, end) : numberAfter(bytes, timeKey, afterType, end);
      return (scan.kind = "telemetry");
    }
    if (matchAt(bytes, afterType, end, batchRest)) {
      const afterHead = afterType + batchRest.length;
      scan.timeMs = numberAfter(bytes, timeKey, afterHead, end);
      let at = afterHead;
      for (;;) {
        const key = bytes.indexOf(droneKey, at);
        if (key < 0 || key >= end) break;
        at = this.readDroneSeq(bytes, key, end).seqEnd;
      }
      return (scan.kind = "batch");
    }
    if (bytes[afterType] === quote) {
      // A single frame whose data does not start with the drone: search for the fields.
      const key = bytes.indexOf(droneKey, afterType);
      if (key < 0 || key >= end) throw new Error(`telemetry without "drone": ${preview(bytes, start, end)}`);
      this.readDroneSeq(bytes, key, end);
      scan.timeMs = numberAfter(bytes, timeKey, afterType, end);
      return (scan.kind = "telemetry");
    }
    return (scan.kind = "other");
  }

  /** A Socket.IO message: the telemetry event's data (drone, seq, time in that order, else searched), or "other". */
  private readSocketIo(bytes: Buffer, start: number, end: number): MessageKind {
    const scan = this.scan;
    const payload = eventPayloadStart(bytes, start, end, socketIoTelemetry);
    if (payload < 0) return (scan.kind = "other");
    if (!matchAt(bytes, payload, end, socketIoDataHead)) throw new Error(`Socket.IO telemetry whose data does not start with "drone": ${preview(bytes, start, end)}`);
    const at = this.readDroneSeq(bytes, payload + 1, end);
    scan.timeMs = matchAt(bytes, at.seqEnd, end, timeAfterSeq) ? digitsAt(bytes, at.seqEnd + timeAfterSeq.length, end) : numberAfter(bytes, timeKey, payload, end);
    return (scan.kind = "telemetry");
  }

  /** Reads `"drone":"<id>"` at `key` and the `"seq":N` after it into `scan`; returns where the seq's digits end. */
  private readDroneSeq(bytes: Buffer, key: number, end: number): { seqEnd: number } {
    const idStart = key + droneKey.length;
    let idEnd = idStart;
    while (idEnd < end && bytes[idEnd] !== quote) idEnd++;
    if (idEnd >= end) throw new Error(`unterminated drone id: ${preview(bytes, key, end)}`);
    const slot = this.drones.slotOf(bytes, idStart, idEnd);
    let digits: number;
    if (matchAt(bytes, idEnd, end, seqAfterId)) digits = idEnd + seqAfterId.length;
    else {
      const seqAt = bytes.indexOf(seqKey, idEnd);
      if (seqAt < 0 || seqAt >= end) throw new Error(`telemetry without "seq": ${preview(bytes, key, end)}`);
      digits = seqAt + seqKey.length;
    }
    let seqEnd = digits;
    let seq = 0;
    for (; seqEnd < end; seqEnd++) {
      const digit = bytes[seqEnd]! - 0x30;
      if (digit < 0 || digit > 9) break;
      seq = seq * 10 + digit;
    }
    if (seqEnd === digits) throw new Error(`expected the seq's digits: ${preview(bytes, key, end)}`);
    this.scan.push(slot, seq);
    this.cursor.seqEnd = seqEnd;
    return this.cursor;
  }
}

/** A telemetry message's time and its frames' drones and seqs, as JSON.parse sees them; null if it is not shaped like one. */
function telemetryFields(parsed: unknown): { time: unknown; frames: Array<{ drone: unknown; seq: unknown }> } | null {
  const data = (parsed as { data?: unknown } | null)?.data as { time?: unknown; frames?: unknown; drone?: unknown; seq?: unknown } | undefined;
  if (typeof data !== "object" || data === null) return null;
  const frames = Array.isArray(data.frames) ? (data.frames as Array<{ drone?: unknown; seq?: unknown }>) : [data];
  return { time: data.time, frames: frames.map((frame) => ({ drone: frame?.drone, seq: frame?.seq })) };
}

/** True if `literal` sits at `bytes[at]`, wholly before `end`. */
function matchAt(bytes: Uint8Array, at: number, end: number, literal: Uint8Array): boolean {
  if (end - at < literal.length) return false;
  for (let i = 0; i < literal.length; i++) if (bytes[at + i] !== literal[i]) return false;
  return true;
}

/** The whole number after the first `key` in `bytes[from, end)`. */
function numberAfter(bytes: Buffer, key: Uint8Array, from: number, end: number): number {
  const at = bytes.indexOf(key, from);
  if (at < 0 || at >= end) throw new Error(`telemetry without ${new TextDecoder().decode(key)} ${preview(bytes, from, end)}`);
  return digitsAt(bytes, at + key.length, end);
}

/** The unsigned decimal integer of exactly `count` digits at `bytes[at]`. */
function fixedDigitsAt(bytes: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) throw new Error(`expected ${count} digits at byte ${at}: ${preview(bytes, at, at + count)}`);
    value = value * 10 + digit;
  }
  return value;
}

/** The unsigned decimal integer starting at `bytes[at]`. */
function digitsAt(bytes: Uint8Array, at: number, end: number): number {
  let value = 0;
  let i = at;
  for (; i < end; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  if (i === at) throw new Error(`expected digits at byte ${at}: ${preview(bytes, at, end)}`);
  return value;
}

function preview(bytes: Uint8Array, start: number, end: number): string {
  return JSON.stringify(new TextDecoder().decode(bytes.subarray(start, Math.min(end, start + 120))));
}
