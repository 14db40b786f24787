/**
 * The few pieces of RFC 6455 the load generator needs beyond the shared
 * frame encoder (tests/support/frames.ts, which also holds the opcode table):
 * the upgrade request, batches of pre-encoded frames, and a streaming counter
 * of the server's (unmasked) frames.
 *
 * Owns byte layouts only. It never touches a socket or a clock, so the load
 * generator can pre-encode everything once and the hot path is a copy-free
 * `write` plus a header-skipping loop.
 */
import { maskKeyBytes, opcodes } from "../tests/support/frames.ts";

/**
 * The permessage-deflate offer of a `--deflate` load generator: no context
 * takeover either way, so each message inflates on its own (RFC 7692 §7.1.1),
 * as Bun's shared compressor sends them anyway.
 */
export const deflateOffer = "permessage-deflate; client_no_context_takeover; server_no_context_takeover";

/**
 * The HTTP/1.1 upgrade request for `path`, offering permessage-deflate with
 * `deflate`. The key is the RFC 6455 sample nonce: the benchmark does not
 * check `Sec-WebSocket-Accept`, only the 101.
 */
export function upgradeRequest(host: string, port: number, path: string, deflate = false): string {
  return (
    `GET ${path} HTTP/1.1\r\n` +
    `Host: ${host}:${port}\r\n` +
    "Upgrade: websocket\r\n" +
    "Connection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    (deflate ? `Sec-WebSocket-Extensions: ${deflateOffer}\r\n` : "") +
    "Sec-WebSocket-Version: 13\r\n\r\n"
  );
}

/** `count` copies of `frame` back to back, so that n frames are one `write` of n * frame.length bytes. */
export function repeatFrame(frame: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) out.set(frame, i * frame.length);
  return out;
}

/** Index just past the blank line ending the HTTP response head, or -1 while incomplete. */
export function endOfHttpHead(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i] === 0x0a && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a && bytes[i - 3] === 0x0d) return i + 1;
  }
  return -1;
}

/**
 * Counts complete data messages in the server's byte stream, skipping
 * payloads without reading them. Keeps its place across TCP chunks, including
 * a header split between two chunks. Invariant: either `payloadLeft > 0`
 * (inside a payload) or the next byte starts a header, possibly with
 * `headerHave` bytes of it already saved in `header`.
 */
export class FrameCounter {
  /** Payload bytes of the current frame not yet seen. */
  private payloadLeft = 0;
  private opcode = 0;
  private fin = false;
  /** A header split across chunks, accumulated here (at most 14 bytes). */
  private readonly header = new Uint8Array(14);
  private headerHave = 0;
  /** Payload length of the current frame. */
  private frameLength = 0;
  /** Total payload bytes of the data frames seen so far: a cheap check that echoes are the size sent. */
  dataBytes = 0;
  /** True once the server sent a close frame. */
  closed = false;

  /** Consumes one chunk and returns how many complete data messages ended in it. */
  feed(chunk: Uint8Array): number {
    let messages = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, n - i);
        i += take;
        this.payloadLeft -= take;
        if (this.payloadLeft === 0) messages += this.frameDone();
        continue;
      }
      // Fast path: the whole header is in this chunk.
      if (this.headerHave === 0 && n - i >= 14) {
        const used = this.startFrame(chunk, i);
        i += used;
        if (this.payloadLeft === 0) messages += this.frameDone();
        continue;
      }
      this.header[this.headerHave++] = chunk[i++]!;
      if (this.headerHave >= 2 && this.headerHave === this.neededHeader()) {
        this.startFrame(this.header, 0);
        this.headerHave = 0;
        if (this.payloadLeft === 0) messages += this.frameDone();
      }
    }
    return messages;
  }

  /** Header length implied by the first two saved header bytes. */
  private neededHeader(): number {
    const b1 = this.header[1]!;
    const len7 = b1 & 0x7f;
    return (len7 < 126 ? 2 : len7 === 126 ? 4 : 10) + (b1 & 0x80 ? maskKeyBytes : 0);
  }

  /** Reads a complete header at `bytes[at]`; returns its length. */
  private startFrame(bytes: Uint8Array, at: number): number {
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    const len7 = b1 & 0x7f;
    let used = 2;
    if (len7 < 126) {
      this.payloadLeft = len7;
    } else if (len7 === 126) {
      this.payloadLeft = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      used = 4;
    } else {
      let length = 0;
      for (let k = 2; k < 10; k++) length = length * 256 + bytes[at + k]!;
      this.payloadLeft = length;
      used = 10;
    }
    if (b1 & 0x80) used += maskKeyBytes;
    this.frameLength = this.payloadLeft;
    return used;
  }

  /** A frame's payload ended: 1 if it completed a data message, else 0. */
  private frameDone(): number {
    if (this.opcode === opcodes.close) this.closed = true;
    const data = this.opcode === opcodes.text || this.opcode === opcodes.binary || this.opcode === opcodes.continuation;
    if (!data) return 0;
    this.dataBytes += this.frameLength;
    return this.fin ? 1 : 0;
  }
}
