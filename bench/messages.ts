/**
 * Reassembles the server's byte stream into whole WebSocket messages for
 * the subscriber side of the load generator, without copying a frame that
 * arrived in one TCP chunk (the usual case) and copying only the frames that
 * straddle chunks.
 *
 * Owns frame boundaries only: what a message means is telemetry-frames.ts's
 * business. Servers under test send every message as one unmasked frame;
 * a fragmented or masked server frame is an error here, not something to
 * guess around.
 */
import { opcodes } from "../tests/support/frames.ts";

/**
 * Called once per complete frame with its opcode and its payload, which is
 * `bytes[start, end)`; `compressed` when RSV1 says permessage-deflate
 * compressed it (RFC 7692). The bytes are only valid during the call.
 */
export type MessageHandler = (opcode: number, bytes: Buffer, start: number, end: number, compressed: boolean) => void;

/** Initial size of the buffer that holds a frame split across chunks; it grows as needed. */
const initialCarryBytes = 64 * 1024;

/**
 * Length of the frame header at `bytes[at]`, or -1 when fewer than the
 * header's bytes are available before `end`.
 */
function headerLength(bytes: Uint8Array, at: number, end: number): number {
  if (end - at < 2) return -1;
  const len7 = bytes[at + 1]! & 0x7f;
  const length = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  return end - at >= length ? length : -1;
}

/** Header plus payload length of the frame at `bytes[at]`, or -1 while its header is incomplete. */
export function frameLength(bytes: Uint8Array, at: number, end: number): number {
  const header = headerLength(bytes, at, end);
  if (header < 0) return -1;
  const len7 = bytes[at + 1]! & 0x7f;
  if (len7 < 126) return header + len7;
  if (len7 === 126) return header + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
  let payload = 0;
  for (let k = 2; k < 10; k++) payload = payload * 256 + bytes[at + k]!;
  return header + payload;
}

/**
 * Splits one connection's stream into messages. Invariant: `carryLength` is
 * 0 between frames; otherwise `carry[0, carryLength)` is the beginning of the
 * one frame in progress.
 */
export class MessageReader {
  private carry = Buffer.allocUnsafe(initialCarryBytes);
  private carryLength = 0;

  /** Consumes one TCP chunk, calling `onMessage` for every frame it completes. */
  feed(chunk: Buffer, onMessage: MessageHandler): void {
    let i = 0;
    const n = chunk.length;
    if (this.carryLength > 0) {
      i = this.continueCarried(chunk, onMessage);
      if (this.carryLength > 0) return;
    }
    while (i < n) {
      const total = frameLength(chunk, i, n);
      if (total < 0 || i + total > n) {
        this.append(chunk, i, n);
        return;
      }
      emit(chunk, i, i + total, onMessage);
      i += total;
    }
  }

  /** Adds the start of `chunk` to the carried frame; returns how many bytes of `chunk` it used. */
  private continueCarried(chunk: Buffer, onMessage: MessageHandler): number {
    let i = 0;
    let total = frameLength(this.carry, 0, this.carryLength);
    // The header itself may be split: take bytes one at a time until it is whole (at most 9).
    while (total < 0 && i < chunk.length) {
      this.append(chunk, i, i + 1);
      i++;
      total = frameLength(this.carry, 0, this.carryLength);
    }
    if (total < 0) return i;
    const take = Math.min(total - this.carryLength, chunk.length - i);
    this.append(chunk, i, i + take);
    i += take;
    if (this.carryLength === total) {
      this.carryLength = 0;
      emit(this.carry, 0, total, onMessage);
    }
    return i;
  }

  private append(bytes: Buffer, start: number, end: number): void {
    const needed = this.carryLength + (end - start);
    if (needed > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.carry.length * 2));
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    bytes.copy(this.carry, this.carryLength, start, end);
    this.carryLength = needed;
  }
}

/** Hands one complete frame's payload to the handler. */
function emit(bytes: Buffer, start: number, end: number, onMessage: MessageHandler): void {
  const b0 = bytes[start]!;
  const b1 = bytes[start + 1]!;
  const opcode = b0 & 0x0f;
  if ((b0 & 0x80) === 0 || opcode === opcodes.continuation) {
    throw new Error(`the server sent a fragmented message (opcode ${opcode}, FIN ${b0 >> 7}): the load generator expects one frame per message`);
  }
  if (b1 & 0x80) throw new Error("the server sent a masked frame, which RFC 6455 forbids");
  onMessage(opcode, bytes, start + headerLength(bytes, start, end), end, (b0 & 0x40) !== 0);
}
