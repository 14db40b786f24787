/** Tests for bench/wire.ts: batches of frames and the streaming frame counter (the encoder's tests are tests/unit/support/frames.test.ts). */
import { describe, expect, test } from "bun:test";
import { encodeFrame, opcodes } from "../tests/support/frames.ts";
import { deflateOffer, endOfHttpHead, FrameCounter, repeatFrame, upgradeRequest } from "./wire.ts";

/** An unmasked server frame of `payloadBytes` zero bytes, as a server would send it. */
function serverFrame(opcode: number, payloadBytes: number, fin = true): Uint8Array {
  return encodeFrame({ opcode, payload: new Uint8Array(payloadBytes), fin, mask: false });
}

test("repeatFrame lays copies back to back", () => {
  const frame = new Uint8Array([1, 2, 3]);
  expect([...repeatFrame(frame, 3)]).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3]);
});

test("upgradeRequest offers permessage-deflate only when asked", () => {
  expect(upgradeRequest("127.0.0.1", 80, "/drone")).not.toContain("Sec-WebSocket-Extensions");
  const offering = upgradeRequest("127.0.0.1", 80, "/drone", true);
  expect(offering).toContain(`\r\nSec-WebSocket-Extensions: ${deflateOffer}\r\n`);
  expect(offering.endsWith("\r\n\r\n")).toBe(true);
});

test("endOfHttpHead finds the blank line or says it is not there yet", () => {
  const head = new TextEncoder().encode("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
  expect(endOfHttpHead(head)).toBe(head.length);
  expect(endOfHttpHead(head.subarray(0, head.length - 1))).toBe(-1);
});

describe("FrameCounter", () => {
  test("counts frames of every length class in one chunk", () => {
    const counter = new FrameCounter();
    const stream = new Uint8Array([...serverFrame(opcodes.binary, 32), ...serverFrame(opcodes.binary, 4096), ...serverFrame(opcodes.binary, 70_000), ...serverFrame(opcodes.text, 0)]);
    expect(counter.feed(stream)).toBe(4);
    expect(counter.dataBytes).toBe(32 + 4096 + 70_000);
  });

  test("gives the same count however the stream is cut, headers split included", () => {
    const frames = [32, 0, 125, 126, 4096, 65_535, 65_536].map((n) => serverFrame(opcodes.binary, n));
    const stream = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
    let offset = 0;
    for (const f of frames) {
      stream.set(f, offset);
      offset += f.length;
    }
    for (const chunkBytes of [1, 2, 3, 7, 13, 1000, 65_537]) {
      const counter = new FrameCounter();
      let total = 0;
      for (let i = 0; i < stream.length; i += chunkBytes) total += counter.feed(stream.subarray(i, i + chunkBytes));
      expect({ chunkBytes, total }).toEqual({ chunkBytes, total: frames.length });
      expect(counter.dataBytes).toBe(32 + 125 + 126 + 4096 + 65_535 + 65_536);
    }
  });

  test("counts a fragmented message once, at its final fragment", () => {
    const counter = new FrameCounter();
    expect(counter.feed(serverFrame(opcodes.binary, 10, false))).toBe(0);
    expect(counter.feed(serverFrame(0x0, 10, true))).toBe(1);
    expect(counter.dataBytes).toBe(20);
  });

  test("does not count control frames and notices a close", () => {
    const counter = new FrameCounter();
    expect(counter.feed(serverFrame(0x9, 4))).toBe(0);
    expect(counter.closed).toBe(false);
    expect(counter.feed(serverFrame(opcodes.close, 2))).toBe(0);
    expect(counter.closed).toBe(true);
  });
});
