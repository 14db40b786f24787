/**
 * The set of open WebSocket connections, per endpoint.
 *
 * Owns: the per-socket data every endpoint shares (`SocketData`), the
 * open/close bookkeeping, the one log line per connection open and close, and
 * closing everything at shutdown. It never reads or answers messages: that is
 * each endpoint's job.
 */
import type { ServerWebSocket } from "bun";
import type { Logger } from "./log.ts";

/** The WebSocket endpoints, named by their path without the slash. */
export type Endpoint = "echo";

/** Typed per-socket data (`ws.data`), kept small: it exists once per connection. */
export interface SocketData {
  endpoint: Endpoint;
  /** Peer address as `ip:port`, for logs. */
  remote: string;
  /** `performance.now()` at upgrade, for the connection's duration. */
  openedAt: number;
  messagesIn: number;
  messagesOut: number;
}

export type Socket = ServerWebSocket<SocketData>;

/** Tracks open sockets so that health can count them and shutdown can close them. */
export class ConnectionRegistry {
  private readonly open = new Map<Endpoint, Set<Socket>>();

  constructor(private readonly logger: Logger) {}

  /** Records a socket that just opened and logs it. */
  opened(ws: Socket): void {
    let sockets = this.open.get(ws.data.endpoint);
    if (!sockets) this.open.set(ws.data.endpoint, (sockets = new Set()));
    sockets.add(ws);
    this.logger.info({ event: "ws_open", endpoint: `/${ws.data.endpoint}`, remote: ws.data.remote });
  }

  /** Forgets a socket that closed and logs its summary line. */
  closed(ws: Socket, code: number, reason: string): void {
    this.open.get(ws.data.endpoint)?.delete(ws);
    const { endpoint, remote, openedAt, messagesIn, messagesOut } = ws.data;
    this.logger.info({
      event: "ws_close",
      endpoint: `/${endpoint}`,
      remote,
      code,
      reason,
      durationMs: Math.round(performance.now() - openedAt),
      messagesIn,
      messagesOut,
    });
  }

  /** Open connections per endpoint plus the total. */
  counts(): Record<string, number> & { total: number } {
    const counts: Record<string, number> & { total: number } = { total: 0 };
    for (const [endpoint, sockets] of this.open) {
      counts[endpoint] = sockets.size;
      counts.total += sockets.size;
    }
    return counts;
  }

  get size(): number {
    let total = 0;
    for (const sockets of this.open.values()) total += sockets.size;
    return total;
  }

  /** Starts the close handshake on every open socket. */
  closeAll(code: number, reason: string): void {
    for (const sockets of this.open.values()) {
      for (const ws of sockets) ws.close(code, reason);
    }
  }
}
