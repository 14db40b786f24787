/** Tests for bench/messages.ts: whole messages out of a stream cut anywhere. */
import { describe, expect, test } from "bun:test";
import { encodeFrame, opcodes } from "../tests/support/frames.ts";
import { frameLength, MessageReader } from "./messages.ts";

/** An unmasked server frame carrying `payload`. */
function serverFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  return encodeFrame({ opcode, payload, fin, mask: false });
}

function concat(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

/** Feeds `stream` in chunks of `chunkBytes` and returns every message as [opcode, text]. */
function readAll(stream: Buffer, chunkBytes: number): Array<[number, string]> {
  const reader = new MessageReader();
  const out: Array<[number, string]> = [];
  for (let i = 0; i < stream.length; i += chunkBytes) {
    reader.feed(stream.subarray(i, i + chunkBytes), (opcode, bytes, start, end) => out.push([opcode, bytes.toString("latin1", start, end)]));
  }
  return out;
}

describe("MessageReader", () => {
  const payloads = [0, 1, 125, 126, 4096, 65_535, 65_536, 200_000].map((n) => "x".repeat(n).replace(/x/g, (_, i: number) => String.fromCharCode(97 + (i % 26))));
  const stream = concat(payloads.map((p, i) => serverFrame(i % 2 ? opcodes.binary : opcodes.text, new TextEncoder().encode(p))));

  test("yields every message with its opcode and payload, however the stream is cut", () => {
    const expected = payloads.map((p, i) => [i % 2 ? opcodes.binary : opcodes.text, p]);
    for (const chunkBytes of [1, 2, 3, 9, 13, 125, 4099, 70_000, stream.length]) {
      expect({ chunkBytes, messages: readAll(stream, chunkBytes) }).toEqual({ chunkBytes, messages: expected as Array<[number, string]> });
    }
  });

  test("says which messages permessage-deflate compressed (RSV1)", () => {
    const flags: boolean[] = [];
    const stream = concat([serverFrame(opcodes.text, new Uint8Array(3)), encodeFrame({ opcode: opcodes.text, payload: new Uint8Array(3), rsv: 0b100, mask: false })]);
    new MessageReader().feed(stream, (_opcode, _bytes, _start, _end, compressed) => flags.push(compressed));
    expect(flags).toEqual([false, true]);
  });

  test("passes control frames through and refuses fragments", () => {
    const ping = serverFrame(0x9, new Uint8Array([1, 2]));
    expect(readAll(concat([ping]), 1)).toEqual([[0x9, "\u0001\u0002"]]);
    const fragment = serverFrame(opcodes.text, new Uint8Array(3), false);
    expect(() => readAll(concat([fragment]), 100)).toThrow("fragmented message");
  });
});

test("frameLength needs the whole header and counts header plus payload", () => {
  const frame = serverFrame(opcodes.text, new Uint8Array(300));
  expect(frameLength(frame, 0, 1)).toBe(-1);
  expect(frameLength(frame, 0, 3)).toBe(-1);
  expect(frameLength(frame, 0, 4)).toBe(304);
});
