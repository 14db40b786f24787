/**
 * Wires skyport together: HTTP routes, WebSocket upgrades and per-socket
 * handlers on one `Bun.serve`, plus graceful shutdown.
 *
 * Owns the Bun-specific edge (server.upgrade, websocket options, stop). The
 * behaviour of each endpoint lives in its own module; this file only routes.
 * It does not read argv, env or signals: `server.ts` does that.
 */
import type { Server } from "bun";
import page from "../client/index.html";
import type { Config } from "./config.ts";
import { ConnectionRegistry, type Endpoint, type Socket, type SocketData } from "./connections.ts";
import { echoMessage } from "./echo.ts";
import { checkHandshake } from "./handshake.ts";
import { healthResponse, methodNotAllowed, notFound, textResponse } from "./http.ts";
import { consoleLogger, type Logger } from "./log.ts";

/** Close code and reason sent to every client when the server stops (RFC 6455 "going away"). */
export const closeCodeGoingAway = 1001;
export const shutdownReason = "server shutting down";

/** How long shutdown waits for clients to answer the close handshake before dropping them. */
const shutdownGraceMilliseconds = 2000;

export interface StartOptions {
  logger?: Logger;
}

/** A started server and the handles tests and `server.ts` need. */
export interface RunningServer {
  server: Server<SocketData>;
  /** Base HTTP URL, e.g. `http://localhost:8080/`. */
  url: URL;
  connections: ConnectionRegistry;
  /**
   * Stops accepting, closes every socket with 1001 and resolves once they
   * are closed (or the grace period ran out). Safe to call more than once.
   */
  stop(): Promise<void>;
}

/** The HTTP methods each WebSocket path accepts; anything else is 405. */
const upgradePaths: Record<string, Endpoint> = { "/echo": "echo" };

/** Starts skyport with the given configuration. */
export function startServer(config: Config, options: StartOptions = {}): RunningServer {
  const logger = options.logger ?? consoleLogger;
  const connections = new ConnectionRegistry(logger);
  const startedAt = performance.now();
  let stopping: Promise<void> | null = null;

  function upgrade(endpoint: Endpoint) {
    return (req: Request, server: Server<SocketData>): Response | undefined => {
      if (stopping) return textResponse(503, "server shutting down: try again shortly", { "Retry-After": "5" });
      const refusal = checkHandshake(req.headers);
      if (refusal) return textResponse(refusal.status, refusal.message, refusal.headers);
      const peer = server.requestIP(req);
      const data: SocketData = {
        endpoint,
        remote: peer ? `${peer.address}:${peer.port}` : "unknown",
        openedAt: performance.now(),
        messagesIn: 0,
        messagesOut: 0,
      };
      if (server.upgrade(req, { data })) return undefined;
      return textResponse(400, "WebSocket upgrade failed: the handshake headers were not accepted");
    };
  }

  const routes: Record<string, unknown> = {
    "/": { GET: page },
    "/healthz": {
      GET: () =>
        healthResponse({
          status: stopping ? "draining" : "ok",
          uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
          connections: connections.counts(),
        }),
    },
  };
  for (const [path, endpoint] of Object.entries(upgradePaths)) routes[path] = { GET: upgrade(endpoint) };

  const server: Server<SocketData> = Bun.serve<SocketData>({
    hostname: config.hostname,
    port: config.port,
    development: false,
    routes: routes as never,
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname in routes) return methodNotAllowed(req.method, url, ["GET"]);
      return notFound(url);
    },
    error(error) {
      logger.error({ event: "http_error", message: error.message });
      return textResponse(500, "internal server error");
    },
    websocket: {
      maxPayloadLength: config.echoMaxBytes,
      open(ws: Socket) {
        connections.opened(ws);
      },
      message(ws: Socket, message) {
        ws.data.messagesIn++;
        echoMessage(ws, message);
      },
      close(ws: Socket, code, reason) {
        connections.closed(ws, code, reason);
      },
    },
  });

  async function stop(): Promise<void> {
    if (stopping) return stopping;
    stopping = (async () => {
      connections.closeAll(closeCodeGoingAway, shutdownReason);
      const deadline = performance.now() + shutdownGraceMilliseconds;
      while (connections.size > 0 && performance.now() < deadline) await Bun.sleep(10);
      await server.stop(true);
    })();
    return stopping;
  }

  return { server, url: server.url, connections, stop };
}
