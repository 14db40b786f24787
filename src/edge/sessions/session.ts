/**
 * A `/drone` or `/api/controller` client's session: what it is (`DroneSession`:
 * who it speaks for, until when, what it watches), creating one, its rate limiter, and the
 * shared-token rules (viewer token before anything else when the server requires one, pilot
 * token to claim, and the failed-attempt limit). JWTs are verified in `runtime/identity/`.
 *
 * Owns the decisions, not the sending: each check returns the refusal to
 * answer with (or null), and the endpoint sends it from one place. Never
 * touches a socket.
 */
import { RateLimiter } from "../../core/flow/rate-limit.ts";
import type { Identity } from "../../core/identity/rights.ts";
import { allDrones, authFailuresCloseReason, pilotTokenRequired, viewerTokenRequired, type ClientMessage, type ProtocolError } from "../../../protocol/index.ts";
import { fleetTopic, noticeTopic, telemetryTopic } from "../../runtime/topics.ts";
import type { ThrottledViewer } from "../../runtime/throttled-viewers.ts";
import { tokensEqual } from "../security.ts";

/**
 * What a session holds that most sessions never set (a token's expiry, a
 * pilot's silence, a stall, failed tokens, throttled subscriptions): one
 * object, made on the first write of a value other than its default.
 */
interface OccasionalFields {
  /** When its JWT stops being valid (Unix ms, leeway included), or null when its identity does not expire. */
  expiresAtMs: number | null;
  /** Whether `token_expiring` was sent for the current token. */
  expiryWarned: boolean;
  /** The topic its `*` subscription listens on: every vehicle's, or the batch of just those it may view. */
  fleetTopic: string;
  /** Frames that arrived while its first `hello` was being verified, answered in order once it is; null when none is. */
  awaitingHello: string[] | null;
  /** The session registry's once-a-second sweeps since this socket last sent a frame (message or pong): a pilot's liveness. */
  silentSweeps: number;
  /** Secret 128-bit token given in this session's claim ack (made on its first claim): a later session presents it to take back a lease reserved for this one. Never logged. */
  resumeToken: string | null;
  /** Failed token attempts; the third closes the socket with 1008. */
  authFailures: number;
  /** When the socket went over the slow-consumer limit (monotonic ms), or null while it keeps up. */
  stalledSince: number | null;
  /** Each drone's latest seq when telemetry stopped for this stalled socket; null while it keeps up. */
  stalledAtSeq: Map<string, number | null> | null;
  /** Its throttled subscriptions (`maxHz`), by drone or `*`; null until it makes one (endpoints/throttled-subscriptions.ts). */
  throttled: Map<string, ThrottledSubscription> | null;
}

/** Every occasional field at rest: what a session reads until it writes something else. */
const atRest: Readonly<OccasionalFields> = Object.freeze({
  expiresAtMs: null,
  expiryWarned: false,
  fleetTopic,
  awaitingHello: null,
  silentSweeps: 0,
  resumeToken: null,
  authFailures: 0,
  stalledSince: null,
  stalledAtSeq: null,
  throttled: null,
});

/** A session's occasional fields read and write as its own (accessors on the prototype, below). */
export interface DroneSession extends OccasionalFields {}

/**
 * A `/drone` or `/api/controller` client: who it is to the fleet and what it
 * watches. One exists per socket, so an idle one is kept to six fields (a
 * 64-byte object; the seventeen it once had took 160): the occasional ones
 * (`OccasionalFields`) live in one object made on first use, read and
 * written through accessors as if they were fields.
 */
export class DroneSession {
  /** Random 128-bit id (22 base64url characters), shown to other clients as the pilot's identity; the pilot's credential to the fleet. */
  readonly id: string;
  /** Drone that text commands and JSON commands without `data.drone` address. */
  defaultDrone: string;
  /**
   * Drones whose telemetry topic this socket is subscribed to, each once, in
   * the order subscribed; null while it watches none. An array, not a Set:
   * a viewer of one drone pays for one small array (a Set and its table
   * cost about five times as much), and lookups are over at most
   * --max-subscriptions entries. Read it with `subscriptionsOf`, change it
   * with `addSubscription` / `removeSubscription`.
   */
  subscriptions: string[] | null;
  /**
   * Created on the first message and dropped again once at rest (the
   * registry's sweep, `RateLimiter.atRest`): an idle socket does not pay for one.
   */
  limiter: RateLimiter | null = null;
  /** Who the session speaks for, and its rights; null until it authenticated. Shown and recorded as its `user`, never a token. */
  identity: Identity | null;
  /** The occasional fields, null while every one is at rest. */
  private occasional: OccasionalFields | null = null;

  constructor(id: string, defaultDrone: string, subscriptions: string[] | null, identity: Identity | null, expiresAtMs: number | null) {
    this.id = id;
    this.defaultDrone = defaultDrone;
    this.subscriptions = subscriptions;
    this.identity = identity;
    this.expiresAtMs = expiresAtMs;
  }

  /** False until the viewer token was presented, when the server requires one: it has an identity once it has. */
  get authenticated(): boolean {
    return this.identity !== null;
  }

  static {
    // Each occasional field reads its rest until written; the object holding them is made only for a value other than the field's rest.
    for (const key of Object.keys(atRest) as (keyof OccasionalFields)[]) {
      Object.defineProperty(DroneSession.prototype, key, {
        get(this: DroneSession) {
          return (this.occasional ?? atRest)[key];
        },
        set(this: DroneSession, value: never) {
          if (this.occasional === null) {
            if (value === atRest[key]) return;
            this.occasional = { ...atRest };
          }
          this.occasional[key] = value;
        },
      });
    }
  }
}

/** A subscription below the telemetry rate: the frame topic its viewer watches through its throttle. */
export interface ThrottledSubscription {
  /** The frame topic (the drone's, or the session's `*` topic) the viewer is registered on. */
  topic: string;
  viewer: ThrottledViewer;
}

/** The frame topic of a session's subscription to `drone` (or `*`), whatever its rate. */
export function frameTopicOf(session: DroneSession, drone: string): string {
  return drone === allDrones ? session.fleetTopic : telemetryTopic(drone);
}

/**
 * The Bun topic a session's subscription to `drone` (or `*`) listens on:
 * the frame topic at full rate; for a throttled one, its notice topic
 * (leases and events only: frames come through its throttle).
 */
export function topicOf(session: DroneSession, drone: string): string {
  const topic = frameTopicOf(session, drone);
  return session.throttled?.has(drone) ? noticeTopic(topic) : topic;
}

/** Seconds of continuous rate limiting after which a socket is closed with 1008. */
export const abuseSeconds = 10;
/** Failed token attempts after which a socket is closed with 1008. */
export const maxAuthFailures = 3;

/**
 * Random bytes in a session id: 128 bits, because the id is the pilot's
 * credential to the fleet (issue 19 #13: at 32 bits, two of 10,000 live
 * sessions collide with ~1.2 % probability). Base64url: 22 characters.
 */
const sessionIdBytes = 16;

/** A fresh full-entropy session id: base64url of 16 random bytes. */
export function newSessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(sessionIdBytes))).toString("base64url");
}

/** A fresh session for a socket that is about to open. */
export function newSession(defaultDrone: string, subscriptions: readonly string[], identity: Identity | null, expiresAtMs: number | null = null): DroneSession {
  const watched = subscriptions.length === 0 ? null : subscriptions.filter((drone, index) => subscriptions.indexOf(drone) === index);
  return new DroneSession(newSessionId(), defaultDrone, watched, identity, expiresAtMs);
}

/** What `subscriptionsOf` reads for a session that watches nothing: shared, never changed. */
const noSubscriptions: readonly string[] = Object.freeze([]);

/** The drones a session watches, in the order subscribed (empty when none). */
export function subscriptionsOf(session: DroneSession): readonly string[] {
  return session.subscriptions ?? noSubscriptions;
}

/** Records that the session watches `drone` (its topic is the caller's to subscribe); once, however often it is asked. */
export function addSubscription(session: DroneSession, drone: string): void {
  const subscriptions = session.subscriptions;
  if (subscriptions === null) session.subscriptions = [drone];
  else if (!subscriptions.includes(drone)) subscriptions.push(drone);
}

/** Records that the session no longer watches `drone`; false if it did not. The last one gone, the array goes too. */
export function removeSubscription(session: DroneSession, drone: string): boolean {
  const subscriptions = session.subscriptions;
  const index = subscriptions === null ? -1 : subscriptions.indexOf(drone);
  if (index < 0) return false;
  subscriptions!.splice(index, 1);
  if (subscriptions!.length === 0) session.subscriptions = null;
  return true;
}

/**
 * Messages over the rate in one streak after which a socket is closed at
 * once, as seconds of its allowed rate: as many as `abuseSeconds` of allowed
 * traffic. A client at twice its rate reaches it when the 10 s rule does; one
 * at k times its rate after 10 / (k − 1) s; a flood of tiny frames after
 * 500 of them (at the default 50/s), within milliseconds (issue 19 #10).
 */
export const floodExcessSeconds = abuseSeconds;

/** The session's rate limiter, created on its first message (and after each rest) so an idle socket does not pay for one. */
export function limiterOf(session: DroneSession, commandsPerSecond: number): RateLimiter {
  return (session.limiter ??= new RateLimiter({ perSecond: commandsPerSecond, abuseSeconds, maxExcess: Math.ceil(commandsPerSecond * floodExcessSeconds) }));
}

/**
 * Drops the session's rate limiter once it is at rest at `nowMs` (its
 * bucket full, no streak, no recent answer): a fresh one decides the same,
 * so a socket that went quiet costs no limiter.
 */
export function restLimiter(session: DroneSession, nowMs: number): void {
  if (session.limiter?.atRest(nowMs)) session.limiter = null;
}

/**
 * Before the viewer token is presented, only `hello` with the right token is
 * answered: null for that, else the refusal (which counts as a failed attempt).
 */
export function checkViewerHello(message: ClientMessage | null, expected: string): ProtocolError | null {
  if (message?.type === "hello" && message.data.token !== undefined && tokensEqual(message.data.token, expected)) return null;
  return viewerTokenRequired(message?.type === "hello");
}

/** A claim's pilot token against the server's (null: none required): null when it may claim, else the refusal. */
export function checkPilotToken(token: string | undefined, expected: string | null): ProtocolError | null {
  if (expected === null) return null;
  if (token === undefined) return pilotTokenRequired("missing");
  return tokensEqual(token, expected) ? null : pilotTokenRequired("wrong");
}

/**
 * Counts a refused token. Returns the close reason once the session has used
 * up its attempts (the socket must then close with 1008), else null.
 */
export function countAuthFailure(session: DroneSession): string | null {
  session.authFailures++;
  return session.authFailures < maxAuthFailures ? null : authFailuresCloseReason(maxAuthFailures);
}
