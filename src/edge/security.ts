/**
 * Who may connect and who may fly: the Host check against DNS rebinding,
 * the origin check against Cross-Site WebSocket Hijacking, constant-time token comparison, token extraction from
 * `Sec-WebSocket-Protocol`, and the connection admission limits.
 *
 * Pure: headers, strings and counters in, verdicts out. No sockets, no
 * clock, and tokens are never logged or echoed from here.
 */
// The constant-time comparison lives beside the JWT verifier, which compares the shared viewer token too.
export { tokensEqual } from "../runtime/identity/shared-token.ts";

/** Which browser origins may open WebSockets: `*`, or an explicit list (plus always the server's own). */
export type AllowedOrigins = "*" | ReadonlySet<string>;

/**
 * Whether a request's Origin may upgrade. No Origin header means a
 * non-browser client (browsers always send one on WebSocket requests), which
 * origin checks cannot and need not stop. The server's own origin is the
 * page it serves, so its host must match the Host header.
 */
export function originAllowed(origin: string | null, host: string | null, allowed: AllowedOrigins): boolean {
  if (origin === null) return true;
  if (allowed === "*") return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  if (allowed.has(normalized)) return true;
  return host !== null && new URL(normalized).host === host.toLowerCase();
}

/**
 * Which `Host` names may reach the server besides its own (loopback names,
 * IP literals, the bound name): `*`, or lowercase names, where `.fleet.example`
 * also admits every subdomain of fleet.example.
 */
export type AllowedHosts = "*" | ReadonlySet<string>;

/**
 * The DNS-rebinding guard, as Vite's `allowedHosts` and webpack-dev-server's
 * host check do it: a page at `rebind.example` whose name is later pointed at
 * 127.0.0.1 is same-origin with itself, so the origin check passes; only the
 * `Host` header still says which name the browser meant. Allowed: no `Host`
 * (not a browser: browsers always send one), IP literals (no DNS name was
 * resolved), `localhost` and `*.localhost` (RFC 6761: always loopback), the
 * name the server is bound to, and the configured names.
 */
export function hostAllowed(host: string | null, boundHostname: string, allowed: AllowedHosts): boolean {
  if (host === null || allowed === "*") return true;
  const name = hostNameOf(host);
  if (name === null) return false;
  if (name.startsWith("[") || ipv4Literal.test(name)) return true;
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === boundHostname.toLowerCase()) return true;
  if (allowed.has(name)) return true;
  for (const entry of allowed) if (entry.startsWith(".") && (name.endsWith(entry) || name === entry.slice(1))) return true;
  return false;
}

const ipv4Literal = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `Host` without its port, lowercase, without a trailing dot; `[v6]` keeps its brackets; null when malformed. */
export function hostNameOf(host: string): string | null {
  const trimmed = host.trim().toLowerCase();
  const match = /^(\[[0-9a-f:.]+\]|[^:\[\]\s]+)(?::\d{1,5})?$/.exec(trimmed);
  if (!match) return null;
  const name = match[1]!;
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** The refusal body for a Host the guard does not know: what was received and how to allow it. */
export function hostRefusalMessage(host: string): string {
  const shown = JSON.stringify(host.slice(0, 100));
  const name = hostNameOf(host) ?? "<name>";
  return `Host ${shown} is not a name of this server (DNS rebinding guard): start it with --allowed-hosts ${name} to allow it`;
}

/** `https://A.example:443/` → `https://a.example`; null for anything that is not an http(s) origin. */
export function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.origin.toLowerCase();
  } catch {
    return null;
  }
}

/** Prefix of the subprotocol value that carries a viewer token (browsers cannot set headers). */
export const tokenSubprotocolPrefix = "skyport.token.";

/** Characters a token may use to travel as a subprotocol value (an HTTP token). */
export function isSubprotocolSafe(token: string): boolean {
  return /^[A-Za-z0-9._~-]+$/.test(token);
}

/** Splits an offered `Sec-WebSocket-Protocol` list into real subprotocols and a carried token. */
export function parseOfferedProtocols(header: string | null): { protocols: string[]; token: string | null } {
  const protocols: string[] = [];
  let token: string | null = null;
  for (const value of (header ?? "").split(",")) {
    const trimmed = value.trim();
    if (trimmed === "") continue;
    if (trimmed.startsWith(tokenSubprotocolPrefix)) token = trimmed.slice(tokenSubprotocolPrefix.length);
    else protocols.push(trimmed);
  }
  return { protocols, token };
}

/**
 * The key per-address limits count under: an IPv4 address as it is (an
 * IPv4-mapped IPv6 address as its IPv4), an IPv6 address as its /64, the
 * smallest network a single subscriber is usually given (every address of a
 * /64 counted alone let one host take the whole per-address limit 2^64
 * times). Anything else (`unknown`) as it is.
 */
export function addressKey(address: string): string {
  if (!address.includes(":")) return address;
  const groups = ipv6Groups(address);
  if (groups === null) return address;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a dotted IPv4 tail and a zone allowed), or null if it is not one. */
export function ipv6Groups(address: string): number[] | null {
  let text = address.trim().toLowerCase();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  const tail: number[] = [];
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const bytes = dotted.slice(2, 6).map(Number);
    if (bytes.some((b) => b > 255)) return null;
    tail.push((bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!);
    text = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const missing = 8 - tail.length - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head.map((g) => parseInt(g, 16)), ...new Array<number>(missing).fill(0), ...rest.map((g) => parseInt(g, 16)), ...tail];
}

/** Whether `text` is an IPv4 or IPv6 address literal. */
export function isIpAddress(text: string): boolean {
  if (ipv4Literal.test(text)) return text.split(".").every((b) => Number(b) <= 255);
  return text.includes(":") && ipv6Groups(text) !== null;
}

/**
 * The client's address: with `trustProxy`, the last hop of
 * `X-Forwarded-For` (the one the proxy in front appended; earlier hops are
 * the client's word and can be forged), when it is an IP address; otherwise
 * the peer's.
 */
export function clientAddress(forwardedFor: string | null, peer: string | null, trustProxy: boolean): string {
  if (trustProxy && forwardedFor !== null) {
    const last = forwardedFor.slice(forwardedFor.lastIndexOf(",") + 1).trim();
    if (isIpAddress(last)) return last;
  }
  return peer ?? "unknown";
}

/**
 * The host the browser asked for, which its `Origin` must match: behind a
 * trusted reverse proxy (`--trust-proxy`) that rewrites `Host`, the first
 * `X-Forwarded-Host` (the name the client used; later entries are proxies');
 * otherwise `Host` itself. Never trusts the header without `--trust-proxy`:
 * any client can send it.
 */
export function publicHost(host: string | null, forwardedHost: string | null, trustProxy: boolean): string | null {
  if (!trustProxy || forwardedHost === null) return host;
  const first = forwardedHost.split(",")[0]!.trim();
  return first === "" ? host : first;
}

/** Why an upgrade was refused before it happened; also the metrics label. */
export type AdmissionRefusal = "max_connections" | "max_connections_per_ip";

/**
 * Counts open connections, in total and per remote address, and admits new
 * ones under both limits. Invariant: every admitted connection is released
 * exactly once.
 */
export class ConnectionLimiter {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Reserves a slot for `address` (counted under its `addressKey`), or says which limit refuses it. */
  admit(address: string): AdmissionRefusal | null {
    if (this.total >= this.maxTotal) return "max_connections";
    const key = addressKey(address);
    const current = this.perAddress.get(key) ?? 0;
    if (current >= this.maxPerAddress) return "max_connections_per_ip";
    this.total++;
    this.perAddress.set(key, current + 1);
    return null;
  }

  /** Frees the slot of a connection that closed (or never opened). */
  release(address: string): void {
    const key = addressKey(address);
    const current = this.perAddress.get(key);
    if (current === undefined) return;
    this.total--;
    if (current <= 1) this.perAddress.delete(key);
    else this.perAddress.set(key, current - 1);
  }

  get open(): number {
    return this.total;
  }
}

/** Failed token attempts an address may make before it must wait (a person mistyping gets this many free). */
export const freeAuthFailures = 10;
/** The first wait after the free attempts, ms; each further failure doubles it. */
const firstAuthBackoffMs = 1000;
/** The longest wait, ms: about one guess a minute once an address has kept guessing. */
const maxAuthBackoffMs = 60_000;
/** An address's failures are forgotten after this long without one, ms. */
const authFailureMemoryMs = 10 * 60_000;
/** Addresses remembered at most; the oldest are forgotten first (bounds memory under a spray of addresses). */
const maxAuthAddresses = 100_000;

/**
 * Token guessing back-off per address (keyed by `addressKey`): after
 * `freeAuthFailures` failed token attempts, the address must wait 1 s, then
 * 2, 4, ... up to 60 s after each further failure before its next token is
 * even compared. Attempts made while it waits are refused without comparing
 * and do not lengthen the wait. Pure: the caller passes the time.
 */
export class AuthBackoff {
  /** Per address key: failures so far, the last one's time, and until when it must wait. Oldest first. */
  private readonly addresses = new Map<string, { failures: number; lastMs: number; untilMs: number }>();

  /** Milliseconds `address` must still wait before a token is compared, or 0. */
  waitMs(address: string, nowMs: number): number {
    const entry = this.addresses.get(addressKey(address));
    return entry === undefined || entry.untilMs <= nowMs ? 0 : entry.untilMs - nowMs;
  }

  /** Counts a failed token attempt from `address`. */
  failed(address: string, nowMs: number): void {
    const key = addressKey(address);
    const previous = this.addresses.get(key);
    const failures = previous !== undefined && nowMs - previous.lastMs < authFailureMemoryMs ? previous.failures + 1 : 1;
    const over = failures - freeAuthFailures;
    const untilMs = over > 0 ? nowMs + Math.min(maxAuthBackoffMs, firstAuthBackoffMs * 2 ** Math.min(over - 1, 30)) : 0;
    this.addresses.delete(key);
    this.addresses.set(key, { failures, lastMs: nowMs, untilMs });
    if (this.addresses.size > maxAuthAddresses) this.addresses.delete(this.addresses.keys().next().value!);
  }

  /** Addresses remembered, for tests. */
  get size(): number {
    return this.addresses.size;
  }
}

/** The refusal wording while an address waits. */
export function authBackoffMessage(waitMs: number): string {
  return `too many failed token attempts from your address: try again in ${Math.ceil(waitMs / 1000)} s`;
}
