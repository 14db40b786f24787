/**
 * The upgrade decision: may this request become a WebSocket, and if so with
 * what socket data and response headers; if not, which refusal, and why.
 *
 * Pure and web-standard: a `Request` and the server's state in, a decision
 * out. It never calls `server.upgrade`, never reads a clock (the caller
 * passes `nowMs`) and never touches a socket; `app.ts` does those. The only
 * state it changes is the admission limiter's count: an accepted decision
 * holds one slot, which the caller releases when the socket closes (or when
 * Bun's upgrade fails after all).
 *
 * The checks run in this order, and each refusal is counted under its reason:
 * draining, host (DNS rebinding), origin, RFC 6455 handshake, subprotocol (`/drone`) and viewer
 * token (`/drone` and `/api/controller`), a JWT's verdict (verified by the caller first:
 * verification is asynchronous), `?drone=` (unknown drone, or one the token may not view,
 * too many subscriptions), admission limits.
 */
import { allDrones, droneSubprotocol, unknownDrone, type AuthFailureReason } from "../../protocol/index.ts";
import { openIdentity, sharedViewerIdentity, viewable, type Identity } from "../core/identity/rights.ts";
import type { Verdict } from "../runtime/identity/verifier.ts";
import type { Config } from "./config.ts";
import type { SocketData } from "./connections.ts";
import type { DroneSession } from "./sessions/session.ts";
import { newSession } from "./sessions/session.ts";
import { checkHandshake } from "./handshake.ts";
import { textResponse } from "./http.ts";
import type { Endpoint } from "./paths.ts";
import { addressKey, authBackoffMessage, clientAddress, type AuthBackoff, type ConnectionLimiter, hostAllowed, hostRefusalMessage, originAllowed, publicHost, parseOfferedProtocols, tokensEqual } from "./security.ts";

/** What the decision needs to know about the server and the peer. */
export interface UpgradeContext {
  config: Config;
  /** Counts open connections; an accepted decision takes one slot. */
  admission: ConnectionLimiter;
  /** True once shutdown began: every upgrade is refused with 503. */
  draining: boolean;
  /** The drones this server flies: their ids in order (the first is the default), and a fast membership test. */
  fleet: { readonly ids: readonly string[]; has(id: string): boolean };
  /** The peer's address and port, or null when Bun cannot tell. */
  peer: { address: string; port: number } | null;
  /** Monotonic now in ms, recorded as the socket's `openedAt`. */
  nowMs: number;
  /** Token guessing back-off per address, on the same clock as `nowMs`; absent: none. */
  authBackoff?: AuthBackoff;
  /**
   * The verifier's verdict on the token the request carried (subprotocol, or
   * `Authorization: Bearer` for `/api/controller`), when the server accepts
   * JWTs: verification is asynchronous, so the caller does it first. Absent:
   * a carried token is compared with the shared viewer token here.
   */
  tokenVerdict?: Verdict;
}

/** Why an upgrade was refused: the `reason` label of `skyport_upgrades_refused_total`. */
export type RefusalReason =
  | "draining"
  | "host"
  | "origin"
  | "bad_handshake"
  | "subprotocol"
  | "unauthorized"
  | "auth_backoff"
  | "unknown_drone"
  | "too_many_subscriptions"
  | "max_connections"
  | "max_connections_per_ip";

/** A refused upgrade: the HTTP response to send and the reason to count. */
export interface UpgradeRefusal {
  refuse: Response;
  reason: RefusalReason;
  /** For a refused token: why, for `skyport_auth_failures_total`. */
  authReason?: AuthFailureReason;
}

/** An accepted upgrade: the socket's data and the extra handshake response headers. */
export interface UpgradeAcceptance {
  data: SocketData;
  headers: Record<string, string>;
}

export type UpgradeDecision = UpgradeRefusal | UpgradeAcceptance;

/** Retry-After, seconds, for a server that is shutting down: a new process should be up by then. */
const drainingRetrySeconds = 5;
/** Retry-After, seconds, when an admission limit is reached. */
const admissionRetrySeconds = 10;
/** Longest echo of a client's header value (origin, subprotocols) in a refusal. */
const maxEchoedHeaderChars = 100;

/** Decides whether `request` may open a socket on `endpoint`. */
export function decideUpgrade(request: Request, endpoint: Endpoint, context: UpgradeContext): UpgradeDecision {
  const { config } = context;
  if (context.draining) return refusal("draining", 503, "server shutting down: try again shortly", { "Retry-After": String(drainingRetrySeconds) });
  const host = request.headers.get("host");
  if (!hostAllowed(host, config.hostname, config.allowedHosts)) return refusal("host", 403, hostRefusalMessage(host!));
  const origin = request.headers.get("origin");
  if (!originAllowed(origin, publicHost(host, request.headers.get("x-forwarded-host"), config.trustProxy), config.allowedOrigins)) {
    return refusal("origin", 403, `origin ${JSON.stringify(origin!.slice(0, maxEchoedHeaderChars))} may not open WebSockets here`);
  }
  const handshake = checkHandshake(request.headers);
  if (handshake) return refusal("bad_handshake", handshake.status, handshake.message, handshake.headers);

  const address = clientAddress(request.headers.get("x-forwarded-for"), context.peer?.address ?? null, config.trustProxy);
  const negotiated = negotiateProtocol(endpoint, request.headers, config, (token, expected) => compareToken(token, expected, address, context));
  if ("refuse" in negotiated) return negotiated;
  const presented = presentedIdentity(negotiated.viewerToken, address, context);
  if ("refuse" in presented) return presented;
  const session = sessionFor(endpoint, request.url, presented, context);
  if (session !== null && "refuse" in session) return session;

  const limit = context.admission.admit(address);
  if (limit === "max_connections") {
    return refusal(limit, 503, `server full: ${config.maxConnections} connections are open`, { "Retry-After": String(admissionRetrySeconds) });
  }
  if (limit === "max_connections_per_ip") {
    const counted = address.includes(":") && addressKey(address).endsWith("/64") ? ` (counted with its /64)` : "";
    return refusal(limit, 429, `too many connections from ${address}${counted}: at most ${config.maxConnectionsPerIp}`, { "Retry-After": String(admissionRetrySeconds) });
  }
  const data: SocketData = {
    endpoint,
    address,
    port: context.peer?.port ?? 0,
    openedAt: context.nowMs,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    session,
  };
  return { data, headers: negotiated.headers };
}

/** The refusal when Bun itself rejects an upgrade the checks accepted. */
export function upgradeFailed(): UpgradeRefusal {
  return refusal("bad_handshake", 400, "WebSocket upgrade failed: the handshake headers were not accepted");
}

/** A refusal with a one-line plain-text body. */
function refusal(reason: RefusalReason, status: number, message: string, headers?: Record<string, string>): UpgradeRefusal {
  return { refuse: textResponse(status, message, headers), reason };
}

/** The outcome of subprotocol negotiation: the headers to answer with and the token a client carried. */
interface Negotiated {
  headers: Record<string, string>;
  viewerToken: string | null;
}

const noSubprotocol: Negotiated = Object.freeze({ headers: {}, viewerToken: null });

/**
 * The subprotocol and the viewer token a client carried. Every endpoint that
 * exposes a drone (`/drone`, `/api/controller`) reads the token the same
 * way; `/echo` exposes none and ignores the header.
 */
function negotiateProtocol(endpoint: Endpoint, headers: Headers, config: Config, compare: TokenComparison): Negotiated | UpgradeRefusal {
  if (endpoint === "echo") return noSubprotocol;
  const offered = parseOfferedProtocols(headers.get("sec-websocket-protocol"));
  // The tutorial dialect's clients are programs, which can send a header: `Authorization: Bearer` carries the token there.
  if (endpoint === "controller" && offered.token === null) offered.token = bearerToken(headers.get("authorization"));
  if (offered.token !== null && !jwtMode(config)) {
    const verdict = config.viewerToken === null ? "wrong" : compare(offered.token, config.viewerToken);
    if (verdict === "wrong") return { ...refusal("unauthorized", 401, "unauthorized: the viewer token in Sec-WebSocket-Protocol is wrong"), authReason: "wrong_token" };
    if (verdict !== "right") return refusal("auth_backoff", 429, authBackoffMessage(verdict.waitMs), { "Retry-After": String(Math.ceil(verdict.waitMs / 1000)) });
  }
  // The tutorial dialect has no subprotocol: it selects none, whatever was offered.
  if (endpoint === "controller") return { headers: {}, viewerToken: offered.token };
  return negotiateDroneProtocol(offered);
}

/** Whether the server accepts JWTs (a secret or a key file is configured): tokens are then verified by the caller first. */
export function jwtMode(config: Pick<Config, "jwtSecret" | "jwtKeysFile">): boolean {
  return config.jwtSecret !== null || config.jwtKeysFile !== null;
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750), or null. */
export function bearerToken(header: string | null): string | null {
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header ?? "");
  return match ? match[1]! : null;
}

/** Who the socket is at the upgrade, with its token's expiry: known (open mode, or a token carried), or null (it must send `hello`). */
interface Presented {
  identity: Identity | null;
  expiresAtMs: number | null;
}

/**
 * The identity the upgrade starts the session with. In JWT mode a carried
 * token's verdict decides (refused: 401 with its reason, counted against the
 * address); otherwise a token carried was already compared.
 */
function presentedIdentity(token: string | null, address: string, context: UpgradeContext): Presented | UpgradeRefusal {
  const { config } = context;
  const required = config.viewerToken !== null || jwtMode(config);
  if (!required) return { identity: openIdentity, expiresAtMs: null };
  if (token === null) return { identity: null, expiresAtMs: null };
  if (!jwtMode(config)) return { identity: sharedViewerIdentity, expiresAtMs: null };
  const waitMs = context.authBackoff?.waitMs(address, context.nowMs) ?? 0;
  if (waitMs > 0) return refusal("auth_backoff", 429, authBackoffMessage(waitMs), { "Retry-After": String(Math.ceil(waitMs / 1000)) });
  const verdict = context.tokenVerdict;
  if (verdict === undefined) throw new Error("decideUpgrade: a JWT server must pass the carried token's verdict (tokenVerdict)");
  if (verdict.ok) return { identity: verdict.identity, expiresAtMs: verdict.expiresAtMs };
  context.authBackoff?.failed(address, context.nowMs);
  return {
    ...refusal("unauthorized", 401, `unauthorized (${verdict.reason}): ${verdict.message}`, { "WWW-Authenticate": `Bearer error="invalid_token"` }),
    authReason: verdict.reason,
  };
}

/** Compares a presented token, unless the address must wait first. */
type TokenComparison = (presented: string, expected: string) => "right" | "wrong" | { waitMs: number };

/** The upgrade's token comparison: under the address's back-off, and a wrong token counts against it. */
function compareToken(presented: string, expected: string, address: string, context: UpgradeContext): ReturnType<TokenComparison> {
  const backoff = context.authBackoff;
  const nowMs = context.nowMs;
  const waitMs = backoff?.waitMs(address, nowMs) ?? 0;
  if (waitMs > 0) return { waitMs };
  if (tokensEqual(presented, expected)) return "right";
  backoff?.failed(address, nowMs);
  return "wrong";
}

/**
 * `/drone` speaks `skyport.v1.json`; a browser, which cannot set headers,
 * may carry the viewer token as a `skyport.token.<token>` value beside it.
 */
function negotiateDroneProtocol(offered: { protocols: string[]; token: string | null }): Negotiated | UpgradeRefusal {
  if (offered.protocols.length > 0 && !offered.protocols.includes(droneSubprotocol)) {
    const list = JSON.stringify(offered.protocols.join(", ").slice(0, maxEchoedHeaderChars));
    return refusal("subprotocol", 400, `unsupported subprotocol ${list}: /drone speaks ${droneSubprotocol}`);
  }
  // Select our subprotocol whenever the client offered any value (a token alone included), never the token.
  const selects = offered.protocols.length > 0 || offered.token !== null;
  return { headers: selects ? { "Sec-WebSocket-Protocol": droneSubprotocol } : {}, viewerToken: offered.token };
}

/** The session a `/drone` or `/api/controller` socket starts with (null for `/echo`), or the refusal. */
function sessionFor(endpoint: Endpoint, url: string, presented: Presented, context: UpgradeContext): DroneSession | UpgradeRefusal | null {
  const { config } = context;
  if (endpoint === "echo") return null;
  // One rule for every endpoint that exposes a drone: a wrong token in the
  // header was refused before this point; a missing one must come in `hello`
  // (`/drone`) or the socket is refused everything (`/api/controller`, whose
  // dialect has no way to present it).
  const { identity, expiresAtMs } = presented;
  // A client sees only the vehicles it may view: the others do not exist for it.
  const ids = identity === null ? context.fleet.ids : viewable(identity.rights, context.fleet.ids);
  if (endpoint === "controller") return newSession(ids[0] ?? context.fleet.ids[0]!, [], identity, expiresAtMs);
  const wanted = parseDroneQuery(droneQueryOf(url), ids, config.maxSubscriptions);
  // Before a JWT server knows who asks, it says nothing of which vehicles exist: `hello` sorts the wish out.
  const unknown = identity === null && jwtMode(config) ? undefined : wanted.find((id) => id !== allDrones && !ids.includes(id));
  if (unknown !== undefined) {
    // The same wording a JSON or text client gets for an unknown drone.
    return refusal("unknown_drone", 404, unknownDrone(unknown, ids).message);
  }
  if (wanted.length > config.maxSubscriptions) {
    return refusal("too_many_subscriptions", 400, `?drone= names ${wanted.length} drones: a socket may watch at most ${config.maxSubscriptions}`);
  }
  // The fleet's own id strings, not the query's copies: thousands of viewers of one drone share one string.
  const watched = wanted.map((id) => context.fleet.ids.find((known) => known === id) ?? id);
  // Commands without data.drone address the first drone named, or the fleet's first for `*`.
  const defaultDrone = watched.find((id) => id !== allDrones) ?? ids[0] ?? context.fleet.ids[0]!;
  return newSession(defaultDrone, watched, identity, expiresAtMs);
}

/**
 * The `?drone=` value of an upgrade's URL, or null. Only the query is
 * parsed, and only when there is one: a `URL` per upgrade is garbage that
 * thousands of sockets opening at once leave in the heap.
 */
export function droneQueryOf(url: string): string | null {
  const query = url.indexOf("?");
  return query < 0 ? null : new URLSearchParams(url.slice(query + 1)).get("drone");
}

/**
 * The drones a `/drone` socket asks to watch with `?drone=a,b` (or `*`).
 * Without the parameter it watches the fleet, up to `maxSubscriptions`.
 */
export function parseDroneQuery(value: string | null, fleetIds: readonly string[], maxSubscriptions: number): string[] {
  if (value === null) return fleetIds.slice(0, maxSubscriptions);
  return value.split(",").map((id) => id.trim());
}
