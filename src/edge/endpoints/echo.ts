/**
 * The `/echo` endpoint: every message back unchanged, with the same opcode,
 * in the order received.
 *
 * Bun hands text frames over as strings and binary frames as Buffers, and
 * `send` keeps that distinction, so echoing the value as-is preserves the
 * opcode byte for byte. Size limits, UTF-8 validation (1007) and protocol
 * errors (1002) are enforced by Bun's native frame parser before this runs;
 * a per-address message budget (issue 19 #10) here, charged a batch of
 * messages at a time. This is a hot path: no allocation, no logging, no
 * parsing, and no clock read per message.
 *
 * Replies go out uncompressed unless `--compression all`: Bun negotiates
 * permessage-deflate for the whole server, so an `/echo` client that offers
 * it gets it, but only a `send` that asks compresses (what the client sends
 * compressed is inflated either way).
 */
import { closeCodes } from "../../../protocol/index.ts";
import { payloadBytes, type Socket, type SocketData } from "../connections.ts";

/**
 * An `/echo` socket carrying its `SocketData` a second time, as an own
 * property of Bun's socket object. `ws.data` is a native getter: a call out
 * of JavaScript on every read, 6–10 ns here against about 0.5 ns for an own
 * property (measured on a real socket, issue 18), and a 32 B echo costs the
 * server about 0.5 µs in all, so the getter alone was 1–2% of it. The price
 * is one small object per `/echo` socket (32 B of heap); `/drone` and
 * `/api/controller` sockets do not pay it.
 */
type EchoSocket = Socket & { echoData?: SocketData };

/** Marks an `/echo` socket on open, so that its messages find their data without the getter (`echoDataOf`). */
export function markEchoSocket(ws: Socket): void {
  (ws as EchoSocket).echoData = ws.data;
}

/** The data of an `/echo` socket marked on open; undefined for every other socket. */
export function echoDataOf(ws: Socket): SocketData | undefined {
  return (ws as EchoSocket).echoData;
}

/**
 * Sends the message straight back to its sender. `data` is the socket's
 * data, found by the caller (`echoDataOf`); the caller has counted the
 * message in.
 */
export function echoMessage(ws: Socket, message: string | Buffer, data: SocketData): void {
  // `send` returns the bytes written, -1 when queued under backpressure, and 0
  // when Bun dropped the frame at the backpressure limit because the peer is
  // not reading. Closing says so; silently losing an echo would break the
  // contract. An empty message also returns 0 (zero payload bytes written).
  const sent = ws.send(message);
  if (sent > 0) {
    // `send` reports the payload's UTF-8 size: the same bytes came in.
    data.bytesIn += sent;
    data.bytesOut += sent;
    data.messagesOut++;
  } else if (sent === 0 && message.length !== 0) {
    closeBacklogged(ws);
  } else {
    const bytes = payloadBytes(message);
    data.bytesIn += bytes;
    data.bytesOut += bytes;
    data.messagesOut++;
  }
}

/**
 * Most messages an `/echo` socket sends between two charges to its
 * address's budget. The clock is read and the shared bucket updated once
 * per batch instead of once per message (issue 18: per message they cost
 * the echo about a tenth of its throughput); the price is that a socket
 * over the budget is closed at most this many messages late, and the
 * messages of a batch not yet charged when a socket closes are charged then
 * (`chargeEchoRemainder`), so over time every message is paid for.
 */
export const echoChargeBatch = 32;

/** Messages per charge for a budget of `perSecond`: never more than the bucket holds (its burst is one second's worth). */
export function echoChargeEvery(perSecond: number): number {
  return Math.max(1, Math.min(echoChargeBatch, Math.floor(perSecond)));
}

/**
 * A closing `/echo` socket's messages since its last charge, charged to its
 * address's budget now (the socket is going: the verdict only drains the
 * bucket its address's other sockets share).
 */
export function chargeEchoRemainder(data: SocketData, perSecond: number, nowMs: number): void {
  const remainder = data.messagesIn % echoChargeEvery(perSecond);
  if (remainder > 0) data.echoBudget?.take(nowMs, remainder);
}

/**
 * `echoMessage`, the reply compressed for a client that negotiated
 * permessage-deflate (`--compression all`). Bytes are counted from the
 * payload: `send` reports the compressed size.
 */
export function echoMessageCompressed(ws: Socket, message: string | Buffer, data: SocketData): void {
  const sent = ws.send(message, true);
  if (sent === 0 && message.length !== 0) return closeBacklogged(ws);
  const bytes = payloadBytes(message);
  data.bytesIn += bytes;
  data.bytesOut += bytes;
  data.messagesOut++;
}

function closeBacklogged(ws: Socket): void {
  ws.close(closeCodes.tryAgainLater, "echo backlog over limit: read your echoes");
}

type EchoHandler = (ws: Socket, message: string | Buffer, data: SocketData) => void;

/** What the echo handler enforces besides Bun's own frame rules. */
export interface EchoRules {
  /** `/echo`'s message limit, bytes. */
  maxBytes: number;
  /** The server-wide payload limit Bun enforces (one per server); a smaller `maxBytes` is checked by hand. */
  serverMaxBytes: number;
  /** Messages per second all `/echo` sockets of one address may send together; 0 for no budget. */
  perAddressPerSecond: number;
  /** Whether replies are compressed for clients that negotiated permessage-deflate (`--compression all`). */
  compress: boolean;
}

/**
 * The echo handler for these rules: the plain echo when Bun's limits are
 * the endpoint's, else with the size checked by hand and the address's
 * budget (`ws.data.echoBudget`, shared by its sockets) charged every
 * `echoChargeEvery` messages (`data.messagesIn`, counted by the caller
 * before the call).
 * An echo cannot be refused without breaking the contract, so a batch over
 * the budget closes the socket with 1008 saying so.
 */
export function echoHandler(rules: EchoRules): EchoHandler {
  const { maxBytes, perAddressPerSecond } = rules;
  const checkSize = maxBytes < rules.serverMaxBytes;
  const echo = rules.compress ? echoMessageCompressed : echoMessage;
  if (!checkSize && perAddressPerSecond === 0) return echo;
  const overBudget = `echo budget: at most ${perAddressPerSecond} messages per second from one address`;
  const chargeEvery = echoChargeEvery(perAddressPerSecond);
  return (ws, message, data) => {
    if (checkSize) {
      const bytes = payloadBytes(message);
      if (bytes > maxBytes) return ws.close(closeCodes.messageTooBig, `message of ${bytes} bytes exceeds the ${maxBytes}-byte limit`);
    }
    const budget = data.echoBudget;
    if (budget !== undefined && data.messagesIn % chargeEvery === 0 && !budget.take(performance.now(), chargeEvery)) return ws.close(closeCodes.policyViolation, overBudget);
    echo(ws, message, data);
  };
}
