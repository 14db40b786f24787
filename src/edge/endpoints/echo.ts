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
import { closeCodes } from "../../../protocol/index.ts";
import { payloadBytes, type Socket } from "../connections.ts";

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
    ws.close(closeCodes.tryAgainLater, "echo backlog over limit: read your echoes");
  } else {
    const bytes = payloadBytes(message);
    data.bytesIn += bytes;
    data.bytesOut += bytes;
    data.messagesOut++;
  }
}

/**
 * The echo handler for a limit below the server-wide payload limit (Bun has
 * one per server): checks the size by hand, then echoes.
 */
export function echoMessageWithLimit(maxBytes: number): (ws: Socket, message: string | Buffer) => void {
  return (ws, message) => {
    const bytes = payloadBytes(message);
    if (bytes > maxBytes) ws.close(closeCodes.messageTooBig, `message of ${bytes} bytes exceeds the ${maxBytes}-byte limit`);
    else echoMessage(ws, message);
  };
}
