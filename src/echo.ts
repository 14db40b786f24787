/**
 * The `/echo` endpoint: every message back unchanged, with the same opcode,
 * in the order received.
 *
 * Bun hands text frames over as strings and binary frames as Buffers, and
 * `send` keeps that distinction, so echoing the value as-is preserves the
 * opcode byte for byte. Size limits, UTF-8 validation (1007) and protocol
 * errors (1002) are enforced by Bun's native frame parser before this runs.
 * This is a hot path: no allocation, no logging, no parsing.
 */
import type { Socket } from "./connections.ts";

/** Close code for a peer whose unread echoes exceed the backpressure limit. */
export const closeCodeTryAgainLater = 1013;

/** Sends the message straight back to its sender. */
export function echoMessage(ws: Socket, message: string | Buffer): void {
  // `send` returns the bytes written, -1 when queued under backpressure, and 0
  // when Bun dropped the frame at the backpressure limit because the peer is
  // not reading. Closing says so; silently losing an echo would break the
  // contract. An empty message also returns 0 (zero payload bytes written).
  const sent = ws.send(message);
  const data = ws.data;
  if (sent > 0) {
    // `send` reports the payload's UTF-8 size: the same bytes came in.
    data.bytesIn += sent;
    data.bytesOut += sent;
    data.messagesOut++;
  } else if (sent === 0 && message.length !== 0) {
    ws.close(closeCodeTryAgainLater, "echo backlog over limit: read your echoes");
  } else {
    const bytes = typeof message === "string" ? Buffer.byteLength(message) : message.length;
    data.bytesIn += bytes;
    data.bytesOut += bytes;
    data.messagesOut++;
  }
}

/** Close code for a message over the endpoint's size limit. */
export const closeCodeMessageTooBig = 1009;

/**
 * The echo handler for a limit below the server-wide payload limit (Bun has
 * one per server): checks the size by hand, then echoes.
 */
export function echoMessageWithLimit(maxBytes: number): (ws: Socket, message: string | Buffer) => void {
  return (ws, message) => {
    const bytes = typeof message === "string" ? Buffer.byteLength(message) : message.length;
    if (bytes > maxBytes) ws.close(closeCodeMessageTooBig, `message of ${bytes} bytes exceeds the ${maxBytes}-byte limit`);
    else echoMessage(ws, message);
  };
}
