/**
 * The protocol's error vocabulary: every error code, the `ProtocolError` a
 * refusal travels as, the WebSocket close codes, one builder per refusal
 * more than one place gives, and `wireError`, which turns the core's domain
 * `Refusal` into a wire error naming the field the client wrote.
 *
 * Owns the wording of shared refusals, so each is said once. Pure: values in,
 * values out; it never sends anything and knows no socket.
 */
import type { Refusal, RefusalCode } from "../src/core/refusal.ts";
import { argumentIndex, type CommandName } from "./commands.ts";

/**
 * Every error code the server sends, in `error` messages and text replies:
 * the protocol's own, and every refusal the core can give (`RefusalCode`:
 * lease, cluster and drone-model refusals such as `not_pilot`, `geofence`).
 */
export type ErrorCode =
  | RefusalCode
  | "invalid_json"
  | "invalid_message"
  | "unknown_type"
  | "unknown_command"
  | "invalid_args"
  | "invalid_id"
  | "too_many_subscriptions"
  | "rate_limited"
  | "unauthorized"
  /** A replay vehicle was asked to fly: it is read-only (no lease, no command, no mission). */
  | "read_only"
  /** No recorded flight by that id (or none this identity may view). */
  | "unknown_flight";

/**
 * Why a token was refused: the `reason` of an `unauthorized` error (and of a
 * 401 before the upgrade), one code per way a token can be wrong, and the
 * label of `skyport_auth_failures_total`. None says whether a user exists.
 */
export type AuthFailureReason =
  /** No token where one is required. */
  | "missing"
  /** Not a JWT (three base64url parts), or its header or claims are not JSON. */
  | "malformed"
  /** `exp` has passed (beyond the leeway). */
  | "expired"
  /** `nbf` is still ahead (beyond the leeway). */
  | "not_yet_valid"
  /** The signature does not verify with the key its header names. */
  | "bad_signature"
  | "wrong_issuer"
  | "wrong_audience"
  /** Its `kid` (or, without one, its kind of key) matches no configured key. */
  | "unknown_key"
  /** `alg: none`: an unsigned token. */
  | "alg_none"
  /** An algorithm not allowed for the configured keys (HS256 without a secret, RS256 without keys, HS384...). */
  | "alg_not_allowed"
  /** `sub` or `exp` missing, or a claim of the wrong type. */
  | "invalid_claims"
  /** Its `scope` grants no skyport right. */
  | "no_scope"
  /** A shared (viewer or pilot) token that is not the server's. */
  | "wrong_token"
  /** A refreshing `hello` whose token names another `sub` than the session's. */
  | "subject_changed"
  /** This address failed too often: it must wait before a token is even checked. */
  | "backoff";

/** A refusal: what was wrong, and which field of the request it was in. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  /** Dotted path of the offending field, e.g. `data.args[0]`. */
  field?: string;
  /** On `unauthorized` about a token: why it was refused. */
  reason?: AuthFailureReason;
}

/** The close codes skyport sends (RFC 6455 section 7.4.1), one name each. */
export const closeCodes = {
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
} as const;

// ---------------------------------------------------------------- shared refusals

/** Longest drone id echoed back in a refusal, characters (ids on the wire are shorter; `?drone=` is not checked first). */
const maxEchoedDroneIdLength = 40;

/**
 * No drone by that id. `field` is where the client named it: `data.drone`
 * by default, or a key of `data.since` (the message then says so).
 * @example
 * unknownDrone("zulu", ["alpha", "bravo"]).message
 * // 'no drone "zulu": this server flies alpha, bravo'
 */
export function unknownDrone(id: string, ids: readonly string[], field = "data.drone"): ProtocolError {
  const where = field.startsWith("data.since.") ? " in data.since" : "";
  const message = `no drone ${JSON.stringify(id.slice(0, maxEchoedDroneIdLength))}${where}: this server flies ${ids.join(", ")}`;
  return { code: "unknown_drone", message, field };
}

/** A new subscription past the per-socket limit. */
export function tooManySubscriptions(max: number): ProtocolError {
  return { code: "too_many_subscriptions", message: `a socket may watch at most ${max} drones: unsubscribe one first`, field: "data.drone" };
}

/** A message over the per-socket rate. */
export function rateLimited(perSecond: number): ProtocolError {
  return { code: "rate_limited", message: `slow down: at most ${perSecond} messages per second` };
}

/** The close reason for a socket that kept exceeding its rate for `abuseSeconds`. */
export function abusiveCloseReason(perSecond: number, abuseSeconds: number): string {
  return `rate limit of ${perSecond} messages/s exceeded for ${abuseSeconds} s`;
}

/** The close reason for a socket that sent `maxExcess` messages over its rate in one streak (a flood). */
export function floodingCloseReason(perSecond: number, maxExcess: number): string {
  return `rate limit of ${perSecond} messages/s exceeded by ${maxExcess} messages`;
}

/** The close reason after too many wrong tokens. */
export function authFailuresCloseReason(maxFailures: number): string {
  return `unauthorized: ${maxFailures} failed attempts`;
}

/** A claim without the pilot token (or with a wrong one), on a server that requires it. */
export function pilotTokenRequired(given: "missing" | "wrong"): ProtocolError {
  const message = given === "missing" ? "this server requires a pilot token: claim with data.token" : "wrong pilot token";
  return { code: "unauthorized", message, field: "data.token" };
}

/** A token refused for `reason`, with the sentence saying why (never the token, never whether a user exists). */
export function tokenRefused(reason: AuthFailureReason, message: string, field = "data.token"): ProtocolError {
  return { code: "unauthorized", message: `token refused (${reason}): ${message}`, field, reason };
}

/** Anything but `hello` with the right viewer token, before it was presented. */
export function viewerTokenRequired(sentHello: boolean): ProtocolError {
  if (sentHello) return { code: "unauthorized", message: "wrong viewer token", field: "data.token" };
  return { code: "unauthorized", message: 'this server requires a viewer token: send {"type":"hello","data":{"token":"..."}} first' };
}

/** A claim, release, command or mission sent to a replay vehicle: `what` names the request. */
export function replayReadOnly(drone: string, what: string): ProtocolError {
  return { code: "read_only", message: `${drone} is a replay of a recorded flight: it is read-only, so ${what} is refused (watch it, or steer it with replay_control)`, field: "data.drone" };
}

// ---------------------------------------------------------------- domain refusals

/**
 * A domain refusal as the client sees it: its code and message, and the
 * field the client wrote. A refusal about the vehicle names `data.drone` for
 * JSON (text lines have no such field); one about a mission item names
 * `data.items[i].field`; one about an argument names
 * `data.args[i]` for JSON or `args[i]` for text, found through the command
 * table. An argument the command does not have is named as the core named it.
 * @example
 * wireError({ code: "out_of_range", message: "...", about: { argument: "distance" } }, "json", "up").field
 * // "data.args[0]"
 */
export function wireError(refusal: Refusal, form: "json" | "text", command?: CommandName): ProtocolError {
  const { code, message } = refusal;
  const field = wireField(refusal, form, command);
  return field === undefined ? { code, message } : { code, message, field };
}

function wireField(refusal: Refusal, form: "json" | "text", command: CommandName | undefined): string | undefined {
  const about = refusal.about;
  if (about === undefined) return undefined;
  if ("vehicle" in about) return form === "json" ? "data.drone" : undefined;
  if ("item" in about) return `data.items[${about.item}]${about.field === undefined ? "" : `.${about.field}`}`;
  const index = command === undefined ? -1 : argumentIndex(command, about.argument);
  if (index === -1) return about.argument;
  return form === "json" ? `data.args[${index}]` : `args[${index}]`;
}
