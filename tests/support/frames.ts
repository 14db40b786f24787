/**
 * RFC 6455 frame bytes for tests and the benchmark: the opcode table and the
 * one frame encoder, imported by the raw test client (raw.ts), the fuzz
 * oracle (frame-oracle.ts), the e2e floods and bench/ alike.
 *
 * Owns byte layouts only: pure, no socket, no clock. It encodes exactly what
 * it is told, right or wrong (any opcode, RSV bits, unmasked, a lying or
 * non-minimal length), because attack tests need the wrong frames too; it
 * never decides what a server should do with them (that is frame-oracle.ts).
 *
 * It lives in tests/support/ rather than bench/ because the test suite is
 * the part of the tree that is always run and the fuzz tests are its most
 * demanding user; bench/ already depends on tests/support/ (redis.ts), and
 * tests never depend on bench/.
 */

/** Frame opcodes (RFC 6455 section 5.2); 0x3-0x7 and 0xB-0xF are reserved. */
export const opcodes = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** Bytes in a client frame's masking key. */
export const maskKeyBytes = 4;
/** Largest payload the 7-bit length field holds; 126 and 127 announce 16- and 64-bit lengths. */
const maxShortPayloadBytes = 125;
/** Largest payload the 16-bit extended length holds. */
const maxMediumPayloadBytes = 0xffff;

/** The length encodings of RFC 6455 section 5.2, by the width of the length field in bits. */
export type LengthForm = 7 | 16 | 64;

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** @default true */
  fin?: boolean;
  /** RSV1..3 as a 3-bit number. @default 0 */
  rsv?: number;
  /** Client frames must be masked; attack tests may not. @default true */
  mask?: boolean;
  /**
   * The 4-byte masking key. @default 4 random bytes from crypto, as a real
   * client draws them; pass a seeded key for frames reproducible byte for byte.
   */
  maskKey?: Uint8Array;
  /** Length written in the header instead of the payload's real length (a lying frame). */
  lengthOverride?: number | bigint;
  /** Force a length encoding even when not minimal. @default the minimal one */
  lengthForm?: LengthForm;
}

/** The minimal length encoding for a payload of `payloadBytes`. */
export function minimalLengthForm(payloadBytes: number | bigint): LengthForm {
  return payloadBytes <= maxShortPayloadBytes ? 7 : payloadBytes <= maxMediumPayloadBytes ? 16 : 64;
}

/** Length of a frame header for `payloadBytes` (minimal length encoding), with or without a mask. */
export function headerBytes(payloadBytes: number, masked: boolean): number {
  const form = minimalLengthForm(payloadBytes);
  return (form === 7 ? 2 : form === 16 ? 4 : 10) + (masked ? maskKeyBytes : 0);
}

/**
 * Encodes one frame exactly as described, right or wrong.
 *
 * @throws {RangeError} when `maskKey` is not 4 bytes.
 * @example
 * socket.write(encodeFrame({ opcode: opcodes.text, payload: "hello" }));
 * socket.write(encodeFrame({ opcode: 0x3, rsv: 4, mask: false })); // reserved opcode, RSV1, unmasked
 */
export function encodeFrame(spec: FrameSpec): Uint8Array<ArrayBuffer> {
  const payload = typeof spec.payload === "string" ? new TextEncoder().encode(spec.payload) : (spec.payload ?? new Uint8Array());
  const mask = spec.mask ?? true;
  if (spec.maskKey !== undefined && spec.maskKey.length !== maskKeyBytes) {
    throw new RangeError(`'maskKey' must be ${maskKeyBytes} bytes: received ${spec.maskKey.length}`);
  }
  const length = BigInt(spec.lengthOverride ?? payload.length);
  const form = spec.lengthForm ?? minimalLengthForm(length);
  const header: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  if (form === 7) header.push(maskBit | Number(length & 0x7fn));
  else if (form === 16) header.push(maskBit | 126, Number((length >> 8n) & 0xffn), Number(length & 0xffn));
  else {
    header.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number((length >> shift) & 0xffn));
  }
  const key = mask ? (spec.maskKey ?? crypto.getRandomValues(new Uint8Array(maskKeyBytes))) : new Uint8Array();
  const out = new Uint8Array(header.length + key.length + payload.length);
  out.set(header, 0);
  out.set(key, header.length);
  const start = header.length + key.length;
  if (mask) for (let i = 0; i < payload.length; i++) out[start + i] = payload[i]! ^ key[i & 3]!;
  else out.set(payload, start);
  return out;
}

/** A close frame's payload: a 2-byte code plus a reason (bytes, so a test may send invalid UTF-8). */
export function closePayload(code: number, reason: Uint8Array | string = ""): Uint8Array<ArrayBuffer> {
  const text = typeof reason === "string" ? new TextEncoder().encode(reason) : reason;
  const out = new Uint8Array(2 + text.length);
  out[0] = (code >> 8) & 0xff;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
