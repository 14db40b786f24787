/** Tests for bench/wire.ts: frame encoding and the streaming frame counter. */
import { describe, expect, test } from "bun:test";
import { encodeClientFrame, endOfHttpHead, FrameCounter, headerBytes, opcodeBinary, opcodeClose, opcodeText, repeatFrame } from "./wire.ts";

/** An unmasked server frame, as a server would send it. */
function serverFrame(opcode: number, payloadBytes: number, fin = true): Uint8Array {
  const header = headerBytes(payloadBytes, false);
  const frame = new Uint8Array(header + payloadBytes);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (payloadBytes < 126) frame[1] = payloadBytes;
  else if (payloadBytes <= 0xffff) {
    frame[1] = 126;
    new DataView(frame.buffer).setUint16(2, payloadBytes);
  } else {
    frame[1] = 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(payloadBytes));
  }
  return frame;
}

describe("encodeClientFrame", () => {
  test("masks the payload and sets FIN, opcode, mask bit and length", () => {
    const payload = new TextEncoder().encode("Hello");
    const frame = encodeClientFrame(payload, opcodeText, new Uint8Array([0x37, 0xfa, 0x21, 0x3d]));
    // RFC 6455 section 5.7: a single-frame masked text message containing "Hello".
    expect([...frame]).toEqual([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  });

  test("uses the 16-bit and 64-bit extended lengths", () => {
    const mask = new Uint8Array(4);
    const medium = encodeClientFrame(new Uint8Array(4096), opcodeBinary, mask);
    expect(medium.length).toBe(4 + 4 + 4096);
    expect(medium[1]).toBe(0x80 | 126);
    expect((medium[2]! << 8) | medium[3]!).toBe(4096);
    const large = encodeClientFrame(new Uint8Array(70_000), opcodeBinary, mask);
    expect(large.length).toBe(10 + 4 + 70_000);
    expect(large[1]).toBe(0x80 | 127);
  });

  test("rejects a mask key that is not 4 bytes, saying what it got", () => {
    expect(() => encodeClientFrame(new Uint8Array(1), opcodeBinary, new Uint8Array(3))).toThrow("mask key must be 4 bytes: got 3");
  });
});

test("repeatFrame lays copies back to back", () => {
  const frame = new Uint8Array([1, 2, 3]);
  expect([...repeatFrame(frame, 3)]).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3]);
});

test("endOfHttpHead finds the blank line or says it is not there yet", () => {
  const head = new TextEncoder().encode("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
  expect(endOfHttpHead(head)).toBe(head.length);
  expect(endOfHttpHead(head.subarray(0, head.length - 1))).toBe(-1);
});

describe("FrameCounter", () => {
  test("counts frames of every length class in one chunk", () => {
    const counter = new FrameCounter();
    const stream = new Uint8Array([...serverFrame(opcodeBinary, 32), ...serverFrame(opcodeBinary, 4096), ...serverFrame(opcodeBinary, 70_000), ...serverFrame(opcodeText, 0)]);
    expect(counter.feed(stream)).toBe(4);
    expect(counter.dataBytes).toBe(32 + 4096 + 70_000);
  });

  test("gives the same count however the stream is cut, headers split included", () => {
    const frames = [32, 0, 125, 126, 4096, 65_535, 65_536].map((n) => serverFrame(opcodeBinary, n));
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
    expect(counter.feed(serverFrame(opcodeBinary, 10, false))).toBe(0);
    expect(counter.feed(serverFrame(0x0, 10, true))).toBe(1);
    expect(counter.dataBytes).toBe(20);
  });

  test("does not count control frames and notices a close", () => {
    const counter = new FrameCounter();
    expect(counter.feed(serverFrame(0x9, 4))).toBe(0);
    expect(counter.closed).toBe(false);
    expect(counter.feed(serverFrame(opcodeClose, 2))).toBe(0);
    expect(counter.closed).toBe(true);
  });
});
