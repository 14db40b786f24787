/**
 * The upgrade decision (src/edge/upgrade.ts) without a server: web-standard
 * Requests in, refusals or socket data out.
 */
import { describe, expect, test } from "bun:test";
import { defaultConfig, type Config } from "../../src/edge/config.ts";
import type { Endpoint } from "../../src/edge/paths.ts";
import { AuthBackoff, ConnectionLimiter } from "../../src/edge/security.ts";
import type { Identity } from "../../src/core/identity/rights.ts";
import { subscriptionsOf } from "../../src/edge/sessions/session.ts";
import { bearerToken, decideUpgrade, droneQueryOf, parseDroneQuery, upgradeFailed, type UpgradeAcceptance, type UpgradeContext, type UpgradeDecision, type UpgradeRefusal } from "../../src/edge/upgrade.ts";

/** The headers of a valid RFC 6455 opening handshake. */
const handshake = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Version": "13",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  Host: "skyport.test",
};

function request(path: string, headers: Record<string, string | null> = {}): Request {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...handshake, ...headers })) if (value !== null) merged[name] = value;
  return new Request(`http://skyport.test${path}`, { headers: merged });
}

function context(overrides: Partial<Config> = {}, extra: Partial<UpgradeContext> = {}): UpgradeContext {
  // skyport.test is this server's configured name (--allowed-hosts), as behind a proxy that forwards Host.
  const config: Config = { ...defaultConfig, drones: ["alpha", "bravo", "charlie"], allowedHosts: new Set(["skyport.test"]), ...overrides };
  return {
    config,
    admission: new ConnectionLimiter(config.maxConnections, config.maxConnectionsPerIp),
    draining: false,
    fleet: { ids: config.drones, has: (id) => config.drones.includes(id) },
    peer: { address: "203.0.113.7", port: 50_000 },
    nowMs: 1234.5,
    ...extra,
  };
}

function decide(endpoint: Endpoint, path: string, headers: Record<string, string | null> = {}, ctx: UpgradeContext = context()): UpgradeDecision {
  return decideUpgrade(request(path, headers), endpoint, ctx);
}

function accepted(decision: UpgradeDecision): UpgradeAcceptance {
  if ("refuse" in decision) throw new Error(`expected an acceptance, got ${decision.reason} ${decision.refuse.status}`);
  return decision;
}

async function refused(decision: UpgradeDecision): Promise<{ reason: string; status: number; body: string; headers: Headers }> {
  if (!("refuse" in decision)) throw new Error("expected a refusal, got an acceptance");
  const { refuse, reason } = decision as UpgradeRefusal;
  return { reason, status: refuse.status, body: await refuse.text(), headers: refuse.headers };
}

describe("accepting", () => {
  test("/echo gets socket data without a session and no extra headers", () => {
    const { data, headers } = accepted(decide("echo", "/echo"));
    expect(data).toEqual({ endpoint: "echo", address: "203.0.113.7", port: 50_000, openedAt: 1234.5, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, session: null });
    expect(headers).toEqual({});
  });

  test("an unknown peer is `unknown`, port 0", () => {
    const { data } = accepted(decide("echo", "/echo", {}, context({}, { peer: null })));
    expect(data).toMatchObject({ address: "unknown", port: 0 });
  });

  test("an accepted upgrade holds one admission slot; a refused one holds none", () => {
    const ctx = context();
    accepted(decide("echo", "/echo", {}, ctx));
    expect(ctx.admission.open).toBe(1);
    decide("echo", "/echo", { Origin: "https://evil.example" }, ctx);
    decide("drone", "/drone?drone=nope", {}, ctx);
    expect(ctx.admission.open).toBe(1);
  });

  test("/api/controller flies the first drone, watches nothing, selects no subprotocol, and follows /drone's viewer-token rule (issue 19 #11)", () => {
    const { data, headers } = accepted(decide("controller", "/api/controller", { "Sec-WebSocket-Protocol": "anything, skyport.token.v" }, context({ viewerToken: "v" })));
    expect(headers).toEqual({});
    expect(data.session).toMatchObject({ defaultDrone: "alpha", authenticated: true });
    expect([...subscriptionsOf(data.session!)]).toEqual([]);
    // Watching nothing, it holds no array either.
    expect(data.session!.subscriptions).toBeNull();
    // Without the token it is admitted unauthenticated: every line is refused until the deadline closes it.
    expect(accepted(decide("controller", "/api/controller", { "Sec-WebSocket-Protocol": "anything" }, context({ viewerToken: "v" }))).data.session!.authenticated).toBe(false);
    expect(accepted(decide("controller", "/api/controller")).data.session!.authenticated).toBe(true);
  });

  test("/api/controller: a wrong viewer token in Sec-WebSocket-Protocol is 401 (issue 19 #11)", async () => {
    expect(await refused(decide("controller", "/api/controller", { "Sec-WebSocket-Protocol": "skyport.token.guess" }, context({ viewerToken: "v" })))).toMatchObject({ reason: "unauthorized", status: 401 });
  });
});

describe("refusals, in order", () => {
  test("draining: 503 with Retry-After, before anything else is looked at", async () => {
    const result = await refused(decide("echo", "/echo", { Upgrade: null, Origin: "https://evil.example" }, context({}, { draining: true })));
    expect(result).toMatchObject({ reason: "draining", status: 503, body: "server shutting down: try again shortly\n" });
    expect(result.headers.get("retry-after")).toBe("5");
  });

  test("a foreign Origin is 403; the server's own origin and no Origin pass", async () => {
    expect(await refused(decide("echo", "/echo", { Origin: "https://evil.example" }))).toMatchObject({
      reason: "origin",
      status: 403,
      body: 'origin "https://evil.example" may not open WebSockets here\n',
    });
    accepted(decide("echo", "/echo", { Origin: "http://skyport.test" }));
    accepted(decide("echo", "/echo", { Origin: "https://app.example" }, context({ allowedOrigins: new Set(["https://app.example"]) })));
  });

  test("behind TLS the page's https origin matches its Host; behind a trusted proxy that rewrites Host, X-Forwarded-Host", async () => {
    accepted(decide("echo", "/echo", { Origin: "https://skyport.test" }));
    accepted(decide("echo", "/echo", { Origin: "https://skyport.test:8443", Host: "skyport.test:8443" }));
    // nginx forwarding to 127.0.0.1:8080 with its own Host, and the browser's in X-Forwarded-Host.
    const proxied = { Origin: "https://sky.example", Host: "127.0.0.1:8080", "X-Forwarded-Host": "sky.example" };
    accepted(decide("echo", "/echo", proxied, context({ trustProxy: true })));
    // Without --trust-proxy the header is anyone's word: not believed.
    expect((await refused(decide("echo", "/echo", proxied))).reason).toBe("origin");
    // The first entry is the client's; later ones are proxies'.
    accepted(decide("echo", "/echo", { ...proxied, "X-Forwarded-Host": "sky.example, inner.proxy" }, context({ trustProxy: true })));
    expect((await refused(decide("echo", "/echo", { ...proxied, Origin: "https://evil.example" }, context({ trustProxy: true })))).reason).toBe("origin");
  });

  test("the RFC 6455 handshake: a plain GET is 426 with Upgrade: websocket, a bad key 400", async () => {
    const plain = await refused(decide("echo", "/echo", { Upgrade: null, Connection: null }));
    expect(plain).toMatchObject({ reason: "bad_handshake", status: 426 });
    expect(plain.headers.get("upgrade")).toBe("websocket");
    expect(await refused(decide("drone", "/drone", { "Sec-WebSocket-Key": "short" }))).toMatchObject({ reason: "bad_handshake", status: 400 });
  });

  test("the failed-upgrade refusal is a 400 counted as bad_handshake", async () => {
    expect(await refused(upgradeFailed())).toMatchObject({ reason: "bad_handshake", status: 400, body: "WebSocket upgrade failed: the handshake headers were not accepted\n" });
  });
});

describe("/drone subprotocol and viewer token", () => {
  test("skyport.v1.json is selected when offered; nothing offered, nothing selected", () => {
    expect(accepted(decide("drone", "/drone", { "Sec-WebSocket-Protocol": "other, skyport.v1.json" })).headers).toEqual({ "Sec-WebSocket-Protocol": "skyport.v1.json" });
    expect(accepted(decide("drone", "/drone")).headers).toEqual({});
  });

  test("only unknown subprotocols: 400 naming them", async () => {
    expect(await refused(decide("drone", "/drone", { "Sec-WebSocket-Protocol": "mqtt, graphql-ws" }))).toMatchObject({
      reason: "subprotocol",
      status: 400,
      body: 'unsupported subprotocol "mqtt, graphql-ws": /drone speaks skyport.v1.json\n',
    });
  });

  test("the right token in the subprotocol authenticates, and our subprotocol is selected, never the token", () => {
    const { data, headers } = accepted(decide("drone", "/drone", { "Sec-WebSocket-Protocol": "skyport.token.s3cret" }, context({ viewerToken: "s3cret" })));
    expect(headers).toEqual({ "Sec-WebSocket-Protocol": "skyport.v1.json" });
    expect(data.session!.authenticated).toBe(true);
  });

  test("a wrong token, or a token where none is configured, is 401 and never echoed", async () => {
    for (const ctx of [context({ viewerToken: "s3cret" }), context()]) {
      const result = await refused(decide("drone", "/drone", { "Sec-WebSocket-Protocol": "skyport.v1.json, skyport.token.guess" }, ctx));
      expect(result).toMatchObject({ reason: "unauthorized", status: 401 });
      expect(result.body).not.toContain("guess");
    }
  });

  test("without a token the session must authenticate in hello when the server requires one", () => {
    expect(accepted(decide("drone", "/drone", {}, context({ viewerToken: "s3cret" }))).data.session!.authenticated).toBe(false);
    expect(accepted(decide("drone", "/drone")).data.session!.authenticated).toBe(true);
  });
});

describe("/drone ?drone=", () => {
  test("the fleet's ids, not the config's, are what the server flies", async () => {
    const ctx = context({ drones: ["alpha"] }, { fleet: { ids: ["scripted-1", "scripted-2"], has: (id) => id.startsWith("scripted-") } });
    expect(accepted(decide("drone", "/drone", {}, ctx)).data.session!.defaultDrone).toBe("scripted-1");
    expect(accepted(decide("controller", "/api/controller", {}, ctx)).data.session!.defaultDrone).toBe("scripted-1");
    expect((await refused(decide("drone", "/drone?drone=alpha", {}, ctx))).body).toBe('no drone "alpha": this server flies scripted-1, scripted-2\n');
  });

  test("absent: watch the fleet up to --max-subscriptions, commands address the first drone", () => {
    const session = accepted(decide("drone", "/drone", {}, context({ maxSubscriptions: 2 }))).data.session!;
    expect([...subscriptionsOf(session)]).toEqual(["alpha", "bravo"]);
    expect(session.defaultDrone).toBe("alpha");
  });

  test("a list: watch those, address the first named; `*` addresses the fleet's first", () => {
    const listed = accepted(decide("drone", "/drone?drone=charlie,%20bravo")).data.session!;
    expect([...subscriptionsOf(listed)]).toEqual(["charlie", "bravo"]);
    expect(listed.defaultDrone).toBe("charlie");
    const all = accepted(decide("drone", "/drone?drone=*")).data.session!;
    expect([...subscriptionsOf(all)]).toEqual(["*"]);
    expect(all.defaultDrone).toBe("alpha");
  });

  test("an unknown drone is 404 naming it and the fleet, cut to 40 characters", async () => {
    expect(await refused(decide("drone", "/drone?drone=alpha,zulu"))).toMatchObject({
      reason: "unknown_drone",
      status: 404,
      body: 'no drone "zulu": this server flies alpha, bravo, charlie\n',
    });
    const long = await refused(decide("drone", `/drone?drone=${"x".repeat(100)}`));
    expect(long.body).toContain(`"${"x".repeat(40)}"`);
    expect(long.body).not.toContain("x".repeat(41));
  });

  test("more drones than --max-subscriptions is 400", async () => {
    expect(await refused(decide("drone", "/drone?drone=alpha,bravo,charlie", {}, context({ maxSubscriptions: 2 })))).toMatchObject({
      reason: "too_many_subscriptions",
      status: 400,
      body: "?drone= names 3 drones: a socket may watch at most 2\n",
    });
  });

  test("parseDroneQuery trims ids and defaults to the fleet", () => {
    expect(parseDroneQuery(" a , b", ["x"], 5)).toEqual(["a", "b"]);
    expect(parseDroneQuery(null, ["x", "y", "z"], 2)).toEqual(["x", "y"]);
  });

  test("droneQueryOf reads ?drone= from the URL's query alone, decoded, and null without one", () => {
    expect(droneQueryOf("http://127.0.0.1:8080/drone?drone=alpha%2Cbravo&other=1")).toBe("alpha,bravo");
    expect(droneQueryOf("http://127.0.0.1:8080/drone?other=1&drone=*")).toBe("*");
    expect(droneQueryOf("http://127.0.0.1:8080/drone?drone=")).toBe("");
    expect(droneQueryOf("http://127.0.0.1:8080/drone?other=1")).toBeNull();
    expect(droneQueryOf("http://127.0.0.1:8080/drone")).toBeNull();
  });
});

describe("DNS rebinding guard (issue 19 #12)", () => {
  test("a Host that is not this server's is 403 before the origin check, naming it and the flag that allows it", async () => {
    expect(await refused(decide("drone", "/drone", { Host: "rebind.example:8080", Origin: "http://rebind.example:8080" }))).toMatchObject({
      reason: "host",
      status: 403,
      body: 'Host "rebind.example:8080" is not a name of this server (DNS rebinding guard): start it with --allowed-hosts rebind.example to allow it\n',
    });
    accepted(decide("drone", "/drone", { Host: "rebind.example:8080" }, context({ allowedHosts: "*" })));
    accepted(decide("drone", "/drone", { Host: "myhost.lan:8080" }, context({ hostname: "myhost.lan" })));
  });
});

describe("admission limits", () => {
  test("past --max-connections: 503; past --max-connections-per-ip: 429; both with Retry-After", async () => {
    const total = context({ maxConnections: 1 });
    accepted(decide("echo", "/echo", {}, total));
    const full = await refused(decide("echo", "/echo", {}, { ...total, peer: { address: "198.51.100.1", port: 1 } }));
    expect(full).toMatchObject({ reason: "max_connections", status: 503, body: "server full: 1 connections are open\n" });
    expect(full.headers.get("retry-after")).toBe("10");

    const perIp = context({ maxConnectionsPerIp: 1 });
    accepted(decide("echo", "/echo", {}, perIp));
    const busy = await refused(decide("echo", "/echo", {}, perIp));
    expect(busy).toMatchObject({ reason: "max_connections_per_ip", status: 429, body: "too many connections from 203.0.113.7: at most 1\n" });
    expect(busy.headers.get("retry-after")).toBe("10");
  });
});

describe("signed tokens (issue 14): the caller's verdict decides", () => {
  const jwt = { jwtSecret: "s".repeat(32) };
  const alice: Identity = { user: "alice", rights: { view: ["alpha", "charlie"], fly: [], admin: false }, source: "jwt" };
  const offered = { "Sec-WebSocket-Protocol": "skyport.v1.json, skyport.token.aaa.bbb.ccc" };

  test("a verified token: the session starts with its identity, expiry and only the drones it may view", () => {
    const ctx = context(jwt, { tokenVerdict: { ok: true, identity: alice, expiresAtMs: 99_000 } });
    const session = accepted(decide("drone", "/drone", offered, ctx)).data.session!;
    expect(session.identity).toBe(alice);
    expect(session.expiresAtMs).toBe(99_000);
    expect([...subscriptionsOf(session)]).toEqual(["alpha", "charlie"]);
    expect(session.defaultDrone).toBe("alpha");
  });

  test("with a known identity, ?drone= naming a drone it may not view is 404, worded as for one that does not exist", async () => {
    const ctx = context(jwt, { tokenVerdict: { ok: true, identity: alice, expiresAtMs: 99_000 } });
    expect(await refused(decide("drone", "/drone?drone=bravo", offered, ctx))).toMatchObject({ status: 404, body: 'no drone "bravo": this server flies alpha, charlie\n' });
  });

  test("without a token yet, ?drone= is not checked (a 404 would say which drones exist): hello sorts it out", () => {
    const session = accepted(decide("drone", "/drone?drone=zulu,bravo", {}, context(jwt))).data.session!;
    expect(session.identity).toBeNull();
    expect([...subscriptionsOf(session)]).toEqual(["zulu", "bravo"]);
  });

  test("a refused token: 401 naming the reason, counted against the address; a waiting address gets 429 unverified", async () => {
    const backoff = new AuthBackoff();
    const ctx = context(jwt, { authBackoff: backoff, tokenVerdict: { ok: false, reason: "expired", message: "it has expired: get a fresh one" } });
    const decision = decide("drone", "/drone", offered, ctx);
    expect((decision as UpgradeRefusal).authReason).toBe("expired");
    expect(await refused(decision)).toMatchObject({ reason: "unauthorized", status: 401, body: "unauthorized (expired): it has expired: get a fresh one\n" });
    for (let i = 0; i < 10; i++) backoff.failed("203.0.113.7", 1234.5);
    expect(await refused(decide("drone", "/drone", offered, context(jwt, { authBackoff: backoff })))).toMatchObject({ reason: "auth_backoff", status: 429 });
  });

  test("/api/controller: the token may come as Authorization: Bearer", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer  abc")).toBe("abc");
    for (const header of [null, "Basic abc", "Bearer", "Bearer a b"]) expect(bearerToken(header)).toBeNull();
    const ctx = context(jwt, { tokenVerdict: { ok: true, identity: alice, expiresAtMs: 99_000 } });
    expect(accepted(decide("controller", "/api/controller", { Authorization: "Bearer aaa.bbb.ccc" }, ctx)).data.session!.identity).toBe(alice);
  });
});
