/** Tests for bench/telemetry-frames.ts: reading time and seqs out of skyport's JSON and the reference's binary frames. */
import { describe, expect, test } from "bun:test";
import { opcodes } from "../tests/support/frames.ts";
import { DroneSlots, referenceStream, TelemetryScanner } from "./telemetry-frames.ts";

const data = (drone: string, seq: number, time: number) => ({
  drone,
  seq,
  time,
  state: "landed",
  position: { x: 0, y: 0, z: 0 },
  velocity: { x: 0, y: 0, z: 0 },
  heading: 0,
  speed: 0,
  battery: 100,
  flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false },
  target: null,
  pilot: null,
});

/** `text` placed inside a larger buffer, as it sits inside a TCP chunk. */
function inChunk(text: string): { bytes: Buffer; start: number; end: number } {
  const payload = Buffer.from(text);
  const bytes = Buffer.concat([Buffer.from("GARBAGE"), payload, Buffer.from('{"seq":999,"drone":"zz"}')]);
  return { bytes, start: 7, end: 7 + payload.length };
}

describe("TelemetryScanner", () => {
  test("reads drone, seq and time of a telemetry frame", () => {
    const scanner = new TelemetryScanner();
    const { bytes, start, end } = inChunk(JSON.stringify({ type: "telemetry", data: data("alpha", 48, 1763712000123) }));
    expect(scanner.read(opcodes.text, bytes, start, end)).toBe("telemetry");
    expect(scanner.scan.timeMs).toBe(1763712000123);
    expect(scanner.scan.count).toBe(1);
    expect(scanner.scan.seqs[0]).toBe(48);
    expect(scanner.drones.ids[scanner.scan.slots[0]!]).toBe("alpha");
  });

  test("reads the batch time and every drone's seq of a batch, and never past the message's end", () => {
    const scanner = new TelemetryScanner();
    const drones = Array.from({ length: 20 }, (_, i) => `d${String(i).padStart(2, "0")}`);
    const batch = { type: "telemetry_batch", data: { time: 1763712000500, frames: drones.map((d, i) => data(d, 1000 + i, 1763712000500)) } };
    const { bytes, start, end } = inChunk(JSON.stringify(batch));
    expect(scanner.read(opcodes.text, bytes, start, end)).toBe("batch");
    const scan = scanner.scan;
    expect(scan.timeMs).toBe(1763712000500);
    expect(scan.count).toBe(20);
    expect(Array.from(scan.seqs.subarray(0, 20))).toEqual(drones.map((_, i) => 1000 + i));
    expect(Array.from(scan.slots.subarray(0, 20)).map((slot) => scanner.drones.ids[slot])).toEqual(drones);
  });

  test("gives the same drone the same slot in single frames and batches", () => {
    const scanner = new TelemetryScanner();
    const single = Buffer.from(JSON.stringify({ type: "telemetry", data: data("bravo", 1, 5) }));
    scanner.read(opcodes.text, single, 0, single.length);
    const slot = scanner.scan.slots[0];
    const batch = Buffer.from(JSON.stringify({ type: "telemetry_batch", data: { time: 6, frames: [data("alpha", 2, 6), data("bravo", 2, 6)] } }));
    scanner.read(opcodes.text, batch, 0, batch.length);
    expect(scanner.scan.slots[1]).toBe(slot!);
  });

  test("reads the reference's binary frame, truncating its time to whole milliseconds like Date.now()", () => {
    const scanner = new TelemetryScanner();
    const frame = Buffer.alloc(64);
    frame.writeDoubleLE(1763712000123.875, 0);
    frame.writeUInt32LE(77, 8);
    frame.writeUInt16LE(3, 12);
    expect(scanner.read(opcodes.binary, frame, 0, frame.length)).toBe("reference");
    expect(scanner.scan.timeMs).toBe(1763712000123);
    expect(scanner.scan.seqs[0]).toBe(77);
    expect(scanner.drones.ids[scanner.scan.slots[0]!]).toBe(referenceStream(3));
  });

  test("reads the reference's text frame the same way, a stream per topic", () => {
    const scanner = new TelemetryScanner();
    const frame = (topic: number, seq: number) => Buffer.from(`R${String(1763712000123875).padStart(16, "0")}${String(topic).padStart(4, "0")}${String(seq).padStart(10, "0")}${" ".repeat(40)}`);
    const first = frame(0, 77);
    expect(scanner.read(opcodes.text, first, 0, first.length)).toBe("reference");
    expect(scanner.scan.timeMs).toBe(1763712000123);
    expect(scanner.scan.seqs[0]).toBe(77);
    const topic0 = scanner.scan.slots[0];
    const second = frame(12, 5);
    scanner.read(opcodes.text, second, 0, second.length);
    expect(scanner.scan.slots[0]).not.toBe(topic0!);
    expect(scanner.drones.ids[scanner.scan.slots[0]!]).toBe(referenceStream(12));
  });

  test("reads the Socket.IO peer's telemetry event, a stream per room", () => {
    const scanner = new TelemetryScanner();
    const { bytes, start, end } = inChunk(`42${JSON.stringify(["telemetry", { drone: "t7", seq: 41, time: 1763712000999, pad: "    " }])}`);
    expect(scanner.read(opcodes.text, bytes, start, end)).toBe("telemetry");
    expect(scanner.scan.timeMs).toBe(1763712000999);
    expect(scanner.scan.seqs[0]).toBe(41);
    expect(scanner.drones.ids[scanner.scan.slots[0]!]).toBe("t7");
    // Fields in another order are searched for.
    const reordered = Buffer.from(`42${JSON.stringify(["telemetry", { drone: "t7", time: 5, seq: 42 }])}`);
    expect(scanner.read(opcodes.text, reordered, 0, reordered.length)).toBe("telemetry");
    expect([scanner.scan.timeMs, scanner.scan.seqs[0]]).toEqual([5, 42]);
    // The handshake, the connect ack and other events are replies; a telemetry event without a drone is an error.
    for (const other of ['0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}', '40{"sid":"b"}', '42["notice",{"drone":"t7","seq":1}]', "2"]) {
      const b = Buffer.from(other);
      expect(scanner.read(opcodes.text, b, 0, b.length)).toBe("other");
    }
    const anonymous = Buffer.from('42["telemetry",{"seq":1,"time":2}]');
    expect(() => scanner.read(opcodes.text, anonymous, 0, anonymous.length)).toThrow('does not start with "drone"');
  });

  test("everything else is other", () => {
    const scanner = new TelemetryScanner();
    for (const text of ['{"type":"welcome","data":{"drones":[{"id":"alpha","seq":3}]}}', '{"type":"ack","id":"s","data":{"drone":"alpha"}}', "ok takeoff"]) {
      const bytes = Buffer.from(text);
      expect(scanner.read(opcodes.text, bytes, 0, bytes.length)).toBe("other");
    }
  });

  test("a telemetry frame without a seq is an error that quotes it", () => {
    const scanner = new TelemetryScanner();
    const bytes = Buffer.from('{"type":"telemetry","data":{"drone":"alpha","time":1}}');
    expect(() => scanner.read(opcodes.text, bytes, 0, bytes.length)).toThrow('telemetry without "seq"');
  });
});

test("DroneSlots gives each id one slot and compares bytes, not just hashes", () => {
  const slots = new DroneSlots();
  const a = Buffer.from("xalphax");
  expect(slots.slotOf(a, 1, 6)).toBe(0);
  expect(slots.slotOfName("bravo")).toBe(1);
  expect(slots.slotOfName("alpha")).toBe(0);
  expect(slots.ids).toEqual(["alpha", "bravo"]);
});

test("DroneSlots keeps its own copy of an id, so a reader may reuse its buffer", () => {
  const slots = new DroneSlots();
  const chunk = Buffer.from("xalphax");
  expect(slots.slotOf(chunk, 1, 6)).toBe(0);
  // The direct reader (and the message reader's carry) overwrite the bytes a frame was read from.
  chunk.write("xbravox");
  expect(slots.slotOfName("alpha")).toBe(0);
  expect(slots.slotOf(chunk, 1, 6)).toBe(1);
  expect(slots.ids).toEqual(["alpha", "bravo"]);
});

describe("TelemetryScanner's check against JSON.parse", () => {
  const frameText = (drone: string, seq: number, time: number) => JSON.stringify({ type: "telemetry", data: data(drone, seq, time) });

  test("real frames, batches and Socket.IO events read the same as JSON.parse says", () => {
    const scanner = new TelemetryScanner(undefined, 1);
    const texts = [
      frameText("alpha", 48, 1763712000123),
      JSON.stringify({ type: "telemetry_batch", data: { time: 7, frames: [data("d00", 1, 7), data("d01", 9, 7)] } }),
      `42${JSON.stringify(["telemetry", { drone: "t7", seq: 41, time: 1763712000999, pad: "  " }])}`,
    ];
    for (const text of texts) {
      const bytes = Buffer.from(text);
      expect(scanner.read(opcodes.text, bytes, 0, bytes.length)).not.toBe("other");
    }
  });

  test("a frame that is not what it claims fails, whatever its first fields say", () => {
    const scanner = new TelemetryScanner(undefined, 1);
    const fails = (text: string, message: string) => {
      const bytes = Buffer.from(text);
      expect(() => scanner.read(opcodes.text, bytes, 0, bytes.length)).toThrow(message);
    };
    // Right fields first, then garbage: not JSON.
    fails(`${frameText("alpha", 5, 1).slice(0, -2)} GARBAGE}}`, "telemetry that is not JSON");
    // A second seq: JSON.parse keeps the last, the scan read the first.
    fails('{"type":"telemetry","data":{"drone":"alpha","seq":5,"time":1,"seq":6}}', "telemetry whose JSON says");
    // A batch whose frames are not an array of frames.
    fails('{"type":"telemetry_batch","data":{"time":1,"frames":{"x":{"drone":"a","seq":1}}}}', "telemetry whose JSON says");
  });

  test("seeded mutations of real frames are read right or refused, never miscounted", () => {
    let state = 0x2545f491;
    const random = (n: number) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const original = Buffer.from(frameText("d07", 123456, 1763712000123));
    const alphabet = Buffer.from('{}[]":,0123456789-.etaslrunxyz \\');
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(original);
      for (let k = 1 + random(3); k > 0; k--) bytes[random(bytes.length)] = alphabet[random(alphabet.length)]!;
      const scanner = new TelemetryScanner(undefined, 1);
      let kind: string;
      try {
        kind = scanner.read(opcodes.text, bytes, 0, bytes.length);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        continue;
      }
      if (kind === "other") continue;
      accepted++;
      // Accepted: the bytes are JSON whose drone, seq and time are what the scan counted.
      const parsed = JSON.parse(bytes.toString()) as { data: { drone: string; seq: number; time: number } };
      const read: unknown[] = [scanner.drones.ids[scanner.scan.slots[0]!], scanner.scan.seqs[0], scanner.scan.timeMs];
      expect([parsed.data.drone, parsed.data.seq, parsed.data.time] as unknown[]).toEqual(read);
    }
    expect(accepted).toBeGreaterThan(0);
  });

  test("by default one message in many is parsed whole; a bad setting is refused", () => {
    const scanner = new TelemetryScanner();
    const bad = Buffer.from(`${frameText("alpha", 5, 1).slice(0, -2)} GARBAGE}}`);
    let thrown = 0;
    for (let i = 0; i < 2048; i++) {
      try {
        scanner.read(opcodes.text, bad, 0, bad.length);
      } catch {
        thrown++;
      }
    }
    expect(thrown).toBe(2);
    expect(() => new TelemetryScanner(undefined, 0)).toThrow("'verifyEvery' must be a positive integer: received 0");
  });
});
