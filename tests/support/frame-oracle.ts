/**
 * A reference reading of RFC 6455 for fuzz tests: given the exact bytes a
 * client sends after the handshake, what must a server do? Echo or answer
 * which messages, answer which pings, and then either close with which code,
 * stay open, or wait for more bytes.
 *
 * Pure: bytes in, expectation out. No sockets. Frames are built with
 * frames.ts's encoder; fuzz runs pass seeded masking keys, so they are
 * reproducible byte for byte.
 */
import { opcodes } from "./frames.ts";

/** Largest control-frame payload, bytes (RFC 6455 section 5.5). */
export const maxControlPayloadBytes = 125;

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Whether bytes are valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), as RFC 6455 requires of text. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Whether bytes could still become valid UTF-8 with more bytes appended (a message cut mid-character is fine). */
export function isUtf8Prefix(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Close codes a peer may send (RFC 6455 section 7.4, plus 1012-1014 from the
 * IANA registry). 1004, 1005, 1006 and 1015 are reserved and must never be on
 * the wire; below 1000 and 1016-2999 are unassigned; 5000+ do not exist.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** What the server must send back for one reply: an exact frame, or (on /drone) any text reply. */
export interface ExpectedReply {
  opcode: number;
  /** The exact payload; undefined means any payload (a /drone reply the oracle does not model). */
  payload?: Uint8Array;
}

export type Verdict =
  /** The server must send a close frame with one of `codes` (1005: an empty close payload), then close TCP. */
  | { kind: "close"; codes: number[]; why: string }
  /** Every byte was a valid, complete frame and no close was sent: the connection must stay open. */
  | { kind: "open" }
  /**
   * The bytes stop inside a frame: the server waits for more. `mayClose` lists
   * codes it may send early anyway (a header error it can see before the
   * header is complete).
   */
  | { kind: "incomplete"; mayClose: number[]; why: string };

export interface Expectation {
  replies: ExpectedReply[];
  verdict: Verdict;
}

export interface OracleOptions {
  /** `echo` echoes data messages; `drone` answers each text message with one text reply and closes on binary with 1003. */
  endpoint: "echo" | "drone";
  /** The server's frame-level payload limit (Bun's maxPayloadLength), bytes. */
  maxPayloadBytes: number;
  /** /drone's own message limit, bytes; larger text closes with 1009. */
  droneMaxBytes?: number;
}

/** Protocol error (RFC 6455 section 7.4.1). */
const protocolError = 1002;
const invalidPayload = 1007;
const tooBig = 1009;
const unsupportedData = 1003;

function isReservedOpcode(op: number): boolean {
  return (op >= 3 && op <= 7) || op >= 0xb;
}

/**
 * Reads `bytes` as a stream of client frames the way RFC 6455 requires a
 * server to, and says what the server must do. Where the RFC allows more
 * than one answer, `codes` lists each acceptable one.
 */
export function expectReaction(bytes: Uint8Array, options: OracleOptions): Expectation {
  const replies: ExpectedReply[] = [];
  let pos = 0;
  let fragmented: { opcode: number; parts: Uint8Array[]; size: number } | null = null;
  const done = (verdict: Verdict): Expectation => ({ replies, verdict });
  /** The bytes end mid-frame or mid-message; `codes` the server may close with early. */
  const incomplete = (codes: Iterable<number>, why: string): Expectation => {
    const mayClose = new Set(codes);
    // A fragmented text message whose bytes so far can never become UTF-8 may be refused before it ends.
    if (fragmented?.opcode === opcodes.text && !isUtf8Prefix(concatBytes(fragmented.parts))) mayClose.add(invalidPayload);
    return done({ kind: "incomplete", mayClose: [...mayClose].sort(), why });
  };

  for (;;) {
    const left = bytes.length - pos;
    if (left === 0) {
      if (fragmented?.opcode === opcodes.text && !isUtf8Prefix(concatBytes(fragmented.parts))) {
        return incomplete([], "an unfinished text message that can no longer be UTF-8");
      }
      return done({ kind: "open" });
    }
    if (left < 2) return incomplete([], "a partial frame header");
    const b0 = bytes[pos]!;
    const b1 = bytes[pos + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv = (b0 >> 4) & 7;
    const op = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const isControl = op >= 8;

    // Violations visible in the first two bytes.
    const early: string[] = [];
    if (rsv !== 0) early.push("RSV bits without an extension");
    if (isReservedOpcode(op)) early.push(`reserved opcode ${op}`);
    if (!isReservedOpcode(op) && isControl && !fin) early.push("fragmented control frame");
    if (!isReservedOpcode(op) && isControl && len7 > maxControlPayloadBytes) early.push("control frame over 125 bytes");
    if (!masked) early.push("unmasked client frame");
    if (!isReservedOpcode(op) && op === opcodes.continuation && fragmented === null) early.push("continuation without a message to continue");
    if (!isReservedOpcode(op) && (op === opcodes.text || op === opcodes.binary) && fragmented !== null) early.push("new data frame inside a fragmented message");

    const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headerLength = 2 + extended + (masked ? 4 : 0);
    if (left < 2 + extended) {
      return incomplete(early.length > 0 ? [protocolError] : [], early.join("; ") || "a partial frame header");
    }
    let length: bigint;
    if (len7 === 126) length = BigInt((bytes[pos + 2]! << 8) | bytes[pos + 3]!);
    else if (len7 === 127) {
      length = 0n;
      for (let i = 0; i < 8; i++) length = (length << 8n) | BigInt(bytes[pos + 2 + i]!);
    } else length = BigInt(len7);

    const codes = new Set<number>();
    const why = [...early];
    if (early.length > 0) codes.add(protocolError);
    if (len7 === 127 && length >> 63n === 1n) {
      // RFC 6455 5.2: "the most significant bit MUST be 0": a protocol error.
      // Bun reads the length as huge and answers 1009 instead; both are accepted.
      why.push("64-bit length with the top bit set");
      codes.add(protocolError);
      codes.add(tooBig);
    } else if (length > BigInt(options.maxPayloadBytes) || (fragmented !== null && !isControl && BigInt(fragmented.size) + length > BigInt(options.maxPayloadBytes))) {
      why.push(`payload of ${length} bytes over the ${options.maxPayloadBytes}-byte limit`);
      codes.add(tooBig);
    }
    if (codes.size > 0) {
      // A frame-level error visible once the header is read: the server closes, however many payload bytes follow.
      // Before the header is complete a server may close at once or wait: both are fine.
      if (left < headerLength) return incomplete(codes, why.join("; "));
      return done({ kind: "close", codes: [...codes].sort(), why: why.join("; ") });
    }

    if (BigInt(left) < BigInt(headerLength) + length) return incomplete([], `a frame of ${length} payload bytes cut short`);
    const size = Number(length);
    const key = bytes.subarray(pos + 2 + extended, pos + headerLength);
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = bytes[pos + headerLength + i]! ^ key[i & 3]!;
    pos += headerLength + size;

    if (op === opcodes.close) {
      if (size === 0) return done({ kind: "close", codes: [1005], why: "a close frame without a code (answered with an empty close)" });
      if (size === 1) return done({ kind: "close", codes: [protocolError], why: "a 1-byte close payload" });
      const code = (payload[0]! << 8) | payload[1]!;
      if (!isValidWireCloseCode(code)) return done({ kind: "close", codes: [protocolError], why: `invalid close code ${code}` });
      if (!isValidUtf8(payload.subarray(2))) return done({ kind: "close", codes: [invalidPayload], why: "a close reason that is not UTF-8" });
      // The server answers a valid close with the same code (RFC 6455 5.5.1: "typically echos the status code it received").
      return done({ kind: "close", codes: [code], why: `a valid close with ${code}` });
    }
    if (op === opcodes.ping) {
      replies.push({ opcode: opcodes.pong, payload });
      continue;
    }
    if (op === opcodes.pong) continue;

    // Data: a whole message, or one fragment of one.
    if (fragmented === null) fragmented = { opcode: op, parts: [], size: 0 };
    fragmented.parts.push(payload);
    fragmented.size += size;
    if (!fin) continue;
    const message = concatBytes(fragmented.parts);
    const messageOpcode = fragmented.opcode;
    fragmented = null;
    if (messageOpcode === opcodes.text && !isValidUtf8(message)) return done({ kind: "close", codes: [invalidPayload], why: "a text message that is not UTF-8" });
    if (options.endpoint === "echo") {
      replies.push({ opcode: messageOpcode, payload: message });
      continue;
    }
    if (messageOpcode === opcodes.binary) return done({ kind: "close", codes: [unsupportedData], why: "a binary message on /drone" });
    if (message.length > (options.droneMaxBytes ?? 65536)) return done({ kind: "close", codes: [tooBig], why: "a /drone message over its limit" });
    replies.push({ opcode: opcodes.text });
  }
}
