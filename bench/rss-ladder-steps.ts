/**
 * The RSS ladder's steps, in order (bench/rss-ladder.ts runs them,
 * bench/rss-ladder-server.ts serves them). Owns the list and what each step
 * adds; nothing else.
 */

/**
 * The ladder server's steps, in order; each adds its part to every step
 * before it. The ladder runs the benchmark's own bare Bun reference before
 * them and skyport's `server.ts` (logging to stdout) after them, both as the
 * benchmark runs them.
 */
export const ladderSteps = [
  /** Bun.serve in this process (skyport's modules loaded, unused), `fetch` upgrades with no data; a viewer joins one topic. */
  "bare",
  /** + the opening exchange: the client sends skyport's opening message and gets two short replies. */
  "exchange",
  /** + `ws.data`, an empty object: what Bun charges for a socket that keeps any data at all. */
  "data-empty",
  /** + `ws.data` of skyport's shape: `SocketData` with a fresh `DroneSession` (`newSession`). */
  "data",
  /** + the data made by skyport's upgrade decision (`decideUpgrade`: Host, Origin, handshake, URL, session id, admission). */
  "upgrade",
  /** + skyport's `/drone` endpoint greeting each socket (`DroneEndpoint.open`: the rights applied, its topics subscribed, the real welcome). */
  "welcome",
  /** + the endpoint answering the opening message (`DroneEndpoint.message`: admission and its rate limiter, parse, the real ack). */
  "endpoint",
  /** + the registries: every socket in `ConnectionRegistry` and `SessionRegistry` (the latter's sweep not run). */
  "registries",
  /** + skyport's `websocket` options (16 MiB payload, idle timeout, pings, 16 MiB backpressure, deflate) and `routes` instead of `fetch`. */
  "options",
  /** + everything else: skyport's own `startServer` in this process (the ticking flight service, metrics, its logger silenced). */
  "app",
] as const;
export type LadderStep = (typeof ladderSteps)[number];
