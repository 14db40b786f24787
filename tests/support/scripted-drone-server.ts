/**
 * A bare `/drone`-speaking WebSocket server on 127.0.0.1 for SDK tests whose
 * server must misbehave or follow a script: it accepts every upgrade with
 * the `/drone` subprotocol and leaves everything else to the test's
 * handlers. No skyport code runs in it.
 */
import type { Server, WebSocketHandler } from "bun";
import { droneSubprotocol } from "../../protocol/index.ts";

/** Serves `handlers` on a free loopback port; the caller stops it. */
export function serveScriptedDrone(handlers: WebSocketHandler<undefined>): Server<undefined> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      if (srv.upgrade(req, { data: undefined, headers: { "Sec-WebSocket-Protocol": droneSubprotocol } })) return undefined;
      return new Response("WebSocket only", { status: 400 });
    },
    websocket: handlers,
  });
}
