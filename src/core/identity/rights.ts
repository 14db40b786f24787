/**
 * Who a client is and what it may do with each vehicle: the `Identity` a
 * session carries, parsing a token's `scope` into `Rights`, and the three
 * decisions every path asks (may view, may fly, may take over).
 *
 * Pure: strings in, verdicts out. It never verifies a signature (the
 * runtime's verifier does), never reads a clock and never sees a raw token.
 * The rights are plain arrays so an identity travels as JSON with every op
 * forwarded to another node, and that node decides on the same rights.
 */

/** The wildcard that grants a right over every vehicle (`view:*`, `fly:*`). */
export const everyVehicle = "*";

/** What a client may do: watch vehicles, fly vehicles, and take control from anyone. */
export interface Rights {
  /** Vehicle ids (or `*`) this client may watch. `fly` implies `view`: a flown id need not be listed here. */
  readonly view: readonly string[];
  /** Vehicle ids (or `*`) this client may claim and command. */
  readonly fly: readonly string[];
  /** May take any lease over (`claim` with `force`) and release anyone's; implies `view:*` and `fly:*`. */
  readonly admin: boolean;
}

/** Where an identity came from: a verified JWT, a shared token, or nobody (the open mode). */
export type IdentitySource = "jwt" | "shared" | "open";

/**
 * The client a session speaks for. `user` is the token's `sub` (shown as the
 * pilot and recorded), `name` its optional display name; neither is ever the
 * token itself.
 */
export interface Identity {
  readonly user: string;
  readonly name?: string;
  readonly rights: Rights;
  readonly source: IdentitySource;
}

/** Who a pilot is, as shown to others with its lease and its telemetry: never a token. */
export type PilotUser = Pick<Identity, "user" | "name">;

/** Every right: the open mode and the shared tokens (the pilot token still gates claims there). */
export const allRights: Rights = Object.freeze({ view: [everyVehicle], fly: [everyVehicle], admin: false });

/** The identity of every session when the server requires no token. */
export const openIdentity: Identity = Object.freeze({ user: "anonymous", rights: allRights, source: "open" });

/** The identity of a session that presented the shared viewer token. */
export const sharedViewerIdentity: Identity = Object.freeze({ user: "viewer-token", rights: allRights, source: "shared" });

/** Longest `scope` parsed, characters: a token is at most a few KB, and a scope longer than this is a mistake or an attack. */
export const maxScopeLength = 4096;
/** Longest vehicle id a right may name (ids on the wire are shorter). */
const maxRightIdLength = 64;

/** Why a scope grants nothing usable. */
export interface ScopeError {
  /** What was wrong, the rule, and the part received (never the whole token). */
  message: string;
}

/**
 * Parses a space-separated OAuth-style `scope` (RFC 8693 section 4.2) into
 * skyport rights: `view:<id|*>`, `fly:<id|*>`, `admin`. Entries of other
 * services are ignored, so one token may serve several; a scope with no
 * skyport entry at all is refused (a token meant for something else).
 * @example
 * parseScope("fly:alpha view:* email")
 * // { view: ["*"], fly: ["alpha"], admin: false }
 */
export function parseScope(scope: unknown): Rights | ScopeError {
  if (typeof scope !== "string") return { message: `scope must be a space-separated string of rights (view:<drone|*>, fly:<drone|*>, admin): received ${scope === undefined ? "none" : typeof scope}` };
  if (scope.length > maxScopeLength) return { message: `scope must be at most ${maxScopeLength} characters: received ${scope.length}` };
  const view = new Set<string>();
  const fly = new Set<string>();
  let admin = false;
  let skyport = 0;
  for (const entry of scope.split(/\s+/)) {
    if (entry === "admin") {
      admin = true;
      skyport++;
      continue;
    }
    const match = /^(view|fly):(.+)$/.exec(entry);
    if (!match) continue;
    const id = match[2]!;
    if (id.length > maxRightIdLength) return { message: `${match[1]}:<drone> names at most ${maxRightIdLength} characters: received ${id.length}` };
    (match[1] === "view" ? view : fly).add(id);
    skyport++;
  }
  if (skyport === 0) return { message: "scope grants no skyport right: it needs view:<drone|*>, fly:<drone|*> or admin" };
  return { view: [...view], fly: [...fly], admin };
}

/** Whether `value` is a `ScopeError` rather than rights. */
export function isScopeError(value: Rights | ScopeError): value is ScopeError {
  return "message" in value;
}

function grants(ids: readonly string[], droneId: string): boolean {
  return ids.includes(everyVehicle) || ids.includes(droneId);
}

/** Whether these rights may claim and command the vehicle. */
export function mayFly(rights: Rights, droneId: string): boolean {
  return rights.admin || grants(rights.fly, droneId);
}

/** Whether these rights may watch the vehicle: listed, flown, or admin. A vehicle it may not view does not exist for it. */
export function mayView(rights: Rights, droneId: string): boolean {
  return mayFly(rights, droneId) || grants(rights.view, droneId);
}

/** Whether these rights may take a lease from its pilot (`claim` with `force`) or release another's. */
export function mayTakeOver(rights: Rights): boolean {
  return rights.admin;
}

/** Whether these rights see every vehicle (so the full `*` batch is theirs as is). */
export function viewsEverything(rights: Rights): boolean {
  return rights.admin || rights.view.includes(everyVehicle) || rights.fly.includes(everyVehicle);
}

/** The vehicles of `ids` these rights may watch, in the fleet's order. */
export function viewable(rights: Rights, ids: readonly string[]): string[] {
  return viewsEverything(rights) ? [...ids] : ids.filter((id) => mayView(rights, id));
}

/** How an identity is named to others: `name (user)` or just `user`. */
export function displayName(identity: Pick<Identity, "user" | "name">): string {
  return identity.name === undefined || identity.name === identity.user ? identity.user : `${identity.name} (${identity.user})`;
}

const identitySources: ReadonlySet<string> = new Set<IdentitySource>(["jwt", "shared", "open"]);

/** Whether `value` has the shape of an `Identity` (one read back from another node must before it is trusted with a decision). */
export function isIdentity(value: unknown): value is Identity {
  if (typeof value !== "object" || value === null) return false;
  const identity = value as Record<string, unknown>;
  if (typeof identity.user !== "string" || identity.user === "" || !identitySources.has(identity.source as string)) return false;
  if (identity.name !== undefined && typeof identity.name !== "string") return false;
  const rights = identity.rights as Record<string, unknown> | null;
  const ids = (list: unknown) => Array.isArray(list) && list.every((id) => typeof id === "string");
  return typeof rights === "object" && rights !== null && ids(rights.view) && ids(rights.fly) && typeof rights.admin === "boolean";
}
