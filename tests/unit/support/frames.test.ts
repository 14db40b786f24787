/** Tests for tests/support/frames.ts: the one RFC 6455 frame encoder that tests and bench/ share. */
import { describe, expect, test } from "bun:test";
import { closePayload, encodeFrame, headerBytes, minimalLengthForm, opcodes } from "../../support/frames.ts";

describe("encodeFrame", () => {
  test("masks the payload and sets FIN, opcode, mask bit and length", () => {
    const payload = new TextEncoder().encode("Hello");
    const frame = encodeFrame({ opcode: opcodes.text, payload, maskKey: new Uint8Array([0x37, 0xfa, 0x21, 0x3d]) });
    // RFC 6455 section 5.7: a single-frame masked text message containing "Hello".
    expect([...frame]).toEqual([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  });

  test("uses the 16-bit and 64-bit extended lengths", () => {
    const mask = new Uint8Array(4);
    const medium = encodeFrame({ opcode: opcodes.binary, payload: new Uint8Array(4096), maskKey: mask });
    expect(medium.length).toBe(4 + 4 + 4096);
    expect(medium[1]).toBe(0x80 | 126);
    expect((medium[2]! << 8) | medium[3]!).toBe(4096);
    const large = encodeFrame({ opcode: opcodes.binary, payload: new Uint8Array(70_000), maskKey: mask });
    expect(large.length).toBe(10 + 4 + 70_000);
    expect(large[1]).toBe(0x80 | 127);
  });

  test("rejects a mask key that is not 4 bytes, saying what it got", () => {
    expect(() => encodeFrame({ opcode: opcodes.binary, payload: new Uint8Array(1), maskKey: new Uint8Array(3) })).toThrow(
      new RangeError("'maskKey' must be 4 bytes: received 3"),
    );
  });

  test("RFC 6455 section 5.7: an unmasked text frame and an unmasked ping", () => {
    expect([...encodeFrame({ opcode: opcodes.text, payload: "Hello", mask: false })]).toEqual([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    expect([...encodeFrame({ opcode: opcodes.ping, payload: "Hello", mask: false })]).toEqual([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
  });

  test("RFC 6455 section 5.7: a fragmented unmasked text message", () => {
    expect([...encodeFrame({ opcode: opcodes.text, payload: "Hel", fin: false, mask: false })]).toEqual([0x01, 0x03, 0x48, 0x65, 0x6c]);
    expect([...encodeFrame({ opcode: opcodes.continuation, payload: "lo", mask: false })]).toEqual([0x80, 0x02, 0x6c, 0x6f]);
  });

  test("writes what it is told, right or wrong: RSV bits, a reserved opcode, a lying length, a non-minimal form", () => {
    expect(encodeFrame({ opcode: 0x3, rsv: 4, mask: false })[0]).toBe(0x80 | 0x40 | 0x3);
    const lying = encodeFrame({ opcode: opcodes.binary, payload: new Uint8Array(2), lengthOverride: 100, mask: false });
    expect([...lying]).toEqual([0x82, 100, 0, 0]);
    const padded = encodeFrame({ opcode: opcodes.text, payload: "x", lengthForm: 64, mask: false });
    expect([...padded]).toEqual([0x81, 127, 0, 0, 0, 0, 0, 0, 0, 1, 0x78]);
    const topBit = encodeFrame({ opcode: opcodes.binary, lengthOverride: 2n ** 63n, lengthForm: 64, mask: false });
    expect([...topBit]).toEqual([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("draws a fresh masking key when none is given, and the payload unmasks with it", () => {
    const frame = encodeFrame({ opcode: opcodes.text, payload: "abcdef" });
    const key = frame.subarray(2, 6);
    const unmasked = frame.subarray(6).map((byte, i) => byte ^ key[i & 3]!);
    expect(new TextDecoder().decode(unmasked)).toBe("abcdef");
  });
});

test("headerBytes and minimalLengthForm agree with the encoder at every length boundary", () => {
  for (const length of [0, 125, 126, 65_535, 65_536]) {
    for (const mask of [true, false]) {
      const frame = encodeFrame({ opcode: opcodes.binary, payload: new Uint8Array(length), mask });
      expect({ length, mask, header: headerBytes(length, mask) }).toEqual({ length, mask, header: frame.length - length });
    }
  }
  expect([125, 126, 65_535, 65_536].map(minimalLengthForm)).toEqual([7, 16, 16, 64]);
});

test("closePayload is the 2-byte code then the reason, which may be any bytes", () => {
  expect([...closePayload(1000, "bye")]).toEqual([0x03, 0xe8, 0x62, 0x79, 0x65]);
  expect([...closePayload(4001, new Uint8Array([0xff]))]).toEqual([0x0f, 0xa1, 0xff]);
  expect([...closePayload(1001)]).toEqual([0x03, 0xe9]);
});
