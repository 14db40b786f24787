/**
 * The open WebSocket connections, counted per endpoint (the `/echo` ones
 * kept here; a session's socket is kept once, in the session registry).
 *
 * Owns: the per-socket data every endpoint shares (`SocketData`; a drone
 * client's session is `sessions/session.ts`'s), the open/close bookkeeping,
 * the one log line per connection open and close, closing everything at
 * shutdown, and the two socket-level helpers every endpoint uses (`sendTo`
 * counts what is sent, `payloadBytes` what arrives). It never reads or
 * answers messages: that is each endpoint's job.
 */
import type { ServerWebSocket } from "bun";
import type { Logger } from "../runtime/observability/log.ts";
import type { OpenTraffic } from "../runtime/observability/metrics.ts";
import type { TokenBucket } from "../core/flow/rate-limit.ts";
import type { ConnectionCounts } from "./health.ts";
import type { DroneSession } from "./sessions/session.ts";
import { endpointPaths, endpointRoutes, type Endpoint } from "./paths.ts";

export type { Endpoint };

/** Typed per-socket data (`ws.data`), kept small: it exists once per connection. */
export interface SocketData {
  endpoint: Endpoint;
  /** Peer IP, for the per-address connection limit and (with `port`) for logs. */
  address: string;
  /** Peer port, 0 when unknown. `remoteOf` joins the two only when a log line needs them. */
  port: number;
  /** Monotonic ms at upgrade on the server's one clock (the flight service's): the connection's duration, the viewer-token deadline. */
  openedAt: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Set for `/drone` and `/api/controller` sockets, null for `/echo`. */
  session: DroneSession | null;
  /** An `/echo` socket's share of its address's message budget (one bucket for all its sockets), set on open; absent without a budget. */
  echoBudget?: TokenBucket;
}

export type Socket = ServerWebSocket<SocketData>;

/** A signed-in session's user, for its log lines (never a token); nothing for anonymous and shared-token sessions. */
function userOf(session: DroneSession): { user?: string } {
  return session.identity?.source === "jwt" ? { user: session.identity.user } : {};
}

/**
 * The peer as `ip:port` for logs. Built on demand rather than stored: one
 * string fewer per connection, and most connections never log twice.
 */
export function remoteOf(data: Pick<SocketData, "address" | "port">): string {
  return data.port > 0 ? `${data.address}:${data.port}` : data.address;
}

/**
 * Tracks open sockets so that health can count them and shutdown can close
 * them. One table per socket: a `/drone` or `/api/controller` socket lives
 * in the session registry's (`sessionSockets`), which must hold it for its
 * session id anyway; only `/echo` sockets, which have no session, are kept
 * here. Every endpoint is counted here.
 */
export class ConnectionRegistry {
  /** Open `/echo` sockets: the only ones no other table holds. */
  private readonly sessionless = new Set<Socket>();
  private readonly openCounts: Record<Endpoint, number> = Object.fromEntries(endpointRoutes.map(({ endpoint }) => [endpoint, 0])) as Record<Endpoint, number>;

  /**
   * @param nowMs the server's monotonic clock, the one `openedAt` was read from.
   * @param sessionSockets the open sockets that have a session (the session registry's), for shutdown and metrics.
   */
  constructor(
    private readonly logger: Logger,
    private readonly nowMs: () => number,
    private readonly sessionSockets: () => Iterable<Socket> = () => [],
  ) {}

  /** Records a socket that just opened and logs it. */
  opened(ws: Socket): void {
    this.openCounts[ws.data.endpoint]++;
    if (ws.data.session === null) this.sessionless.add(ws);
    this.logger.info({
      event: "ws_open",
      endpoint: endpointPaths[ws.data.endpoint],
      remote: remoteOf(ws.data),
      ...(ws.data.session ? { session: ws.data.session.id, ...userOf(ws.data.session) } : {}),
    });
  }

  /** Forgets a socket that closed and logs its summary line. */
  closed(ws: Socket, code: number, reason: string): void {
    this.openCounts[ws.data.endpoint]--;
    this.sessionless.delete(ws);
    const { endpoint, openedAt, messagesIn, messagesOut, session } = ws.data;
    this.logger.info({
      event: "ws_close",
      endpoint: endpointPaths[endpoint],
      remote: remoteOf(ws.data),
      ...(session ? { session: session.id, ...userOf(session) } : {}),
      code,
      reason,
      durationMs: Math.round(this.nowMs() - openedAt),
      messagesIn,
      messagesOut,
    });
  }

  /** Every open socket of one endpoint (a session refused at registration, which closes at once, is not among them). */
  sockets(endpoint: Endpoint): Socket[] {
    const all = endpoint === "echo" ? this.sessionless : this.sessionSockets();
    const sockets: Socket[] = [];
    for (const ws of all) if (ws.data.endpoint === endpoint) sockets.push(ws);
    return sockets;
  }

  /** Open connections per endpoint (every endpoint, 0 when none) plus the total. */
  counts(): ConnectionCounts {
    const counts = {} as ConnectionCounts;
    let total = 0;
    for (const { endpoint } of endpointRoutes) {
      const open = this.openCounts[endpoint];
      counts[endpoint] = open;
      total += open;
    }
    counts.total = total;
    return counts;
  }

  /** Per endpoint path: the open sockets and their traffic so far, for a metrics scrape (one pass over each table). */
  openTraffic(): Map<string, OpenTraffic> {
    const traffic = Object.fromEntries(endpointRoutes.map(({ endpoint }) => [endpoint, { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 }])) as Record<Endpoint, OpenTraffic["traffic"]>;
    for (const table of [this.sessionless, this.sessionSockets()]) {
      for (const ws of table) {
        const data = ws.data;
        const sum = traffic[data.endpoint];
        sum.messagesIn += data.messagesIn;
        sum.messagesOut += data.messagesOut;
        sum.bytesIn += data.bytesIn;
        sum.bytesOut += data.bytesOut;
      }
    }
    return new Map(endpointRoutes.map(({ endpoint, path }) => [path, { connections: this.openCounts[endpoint], traffic: traffic[endpoint] }]));
  }

  get size(): number {
    return this.counts().total;
  }

  /** Starts the close handshake on every open socket. */
  closeAll(code: number, reason: string): void {
    for (const ws of this.sessionless) ws.close(code, reason);
    for (const ws of this.sessionSockets()) ws.close(code, reason);
  }
}

/**
 * Sends one message to one `/drone` or `/api/controller` socket and counts
 * it: a reply, or a throttled subscription's frame. Compressed when the
 * client negotiated permessage-deflate (Bun ignores the flag otherwise; only
 * `--compression off` negotiates nothing; `/echo` sends its own way).
 * Returns Bun's verdict: bytes sent, -1 queued under backpressure, 0 dropped.
 */
export function sendTo(ws: Socket, message: string | Uint8Array): number {
  const sent = ws.send(message, true);
  const data = ws.data;
  data.messagesOut++;
  if (sent > 0) data.bytesOut += sent;
  return sent;
}

/** The close codes are the protocol's (protocol/errors.ts); re-exported for this module's importers. */
export { closeCodes } from "../../protocol/index.ts";

/** A message's payload size in bytes: UTF-8 for text, as sent on the wire. */
export function payloadBytes(message: string | Uint8Array): number {
  return typeof message === "string" ? Buffer.byteLength(message) : message.length;
}
