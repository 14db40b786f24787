/**
 * Issue 14 over real sockets with real signatures: a JWT in `hello` or the
 * subprotocol; a drone the token may not view does not exist for it
 * (welcome, subscribe, the `*` batch, leases); fly rights for claim and
 * commands; an admin's take-over; every refusal's reason, its metric, and
 * the close after three; expiry warned, refreshed in place, or closed with
 * 1008 (the failsafe follows), on the server's fake clock.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyStore } from "../../src/runtime/identity/keys.ts";
import { hs256WithPublicKey, seconds, signHs256, signWith, testKeyPair, testSecret, unsignedToken, type TestClaims } from "../support/jwt.ts";
import { rawConnect } from "../support/raw.ts";
import { startSimServer } from "../support/server.ts";
import { openSocket } from "../support/sockets.ts";

let server: ReturnType<typeof startSimServer> | null = null;
const clients: Array<{ close(): void }> = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.stop();
  server = null;
});

function start() {
  server = startSimServer({ drones: ["alpha", "bravo"], jwtSecret: testSecret });
  return server;
}

/** The server's wall clock in Unix seconds (its fake clock starts on 2026-01-01). */
function nowSeconds(s: NonNullable<typeof server>): number {
  return seconds(s.flight.wallMs());
}

function token(s: NonNullable<typeof server>, claims: TestClaims, ttlSeconds = 3600): Promise<string> {
  return signHs256({ exp: nowSeconds(s) + ttlSeconds, ...claims });
}

/** A socket signed in with `hello`, welcomed. */
async function signIn(s: NonNullable<typeof server>, jwt: string, query = ""): Promise<DroneTestClient> {
  const client = DroneTestClient.wrap(await openSocket(s.ws(`/drone${query}`)));
  clients.push(client);
  client.send({ type: "hello", id: "hi", data: { token: jwt } });
  await client.welcomed();
  return client;
}

describe("who may see what", () => {
  test("view:alpha never learns bravo exists: welcome, subscribe, unsubscribe, claim", async () => {
    const s = start();
    const viewer = await signIn(s, await token(s, { sub: "vic", scope: "view:alpha" }));
    expect(viewer.welcome.data.drones.map((d: { id: string }) => d.id)).toEqual(["alpha"]);
    expect(viewer.welcome.data.subscribed).toEqual(["alpha"]);
    for (const [type, data] of [["subscribe", { drone: "bravo" }], ["unsubscribe", { drone: "bravo" }], ["claim", { drone: "bravo" }], ["command", { drone: "bravo", name: "status" }]] as const) {
      const reply = await viewer.request(type, data);
      expect(reply).toMatchObject({ type: "error", data: { code: "unknown_drone", message: 'no drone "bravo": this server flies alpha' } });
    }
    // Same answer as a drone that does not exist at all.
    expect((await viewer.request("subscribe", { drone: "zulu" })).data.message).toBe('no drone "zulu": this server flies alpha');
  });

  test("`?drone=bravo` before hello is not refused (that would say bravo exists), and is dropped once the token says it may not view it", async () => {
    const s = start();
    const viewer = await signIn(s, await token(s, { sub: "vic", scope: "view:alpha" }), "?drone=alpha,bravo");
    expect(viewer.welcome.data.subscribed).toEqual(["alpha"]);
    const unknown = await rawConnect(s.port, { path: "/drone?drone=zulu" });
    expect(unknown.status).toBe(101);
    unknown.close();
  });

  test("the `*` batch, leases and events carry only the drones it may view", async () => {
    const s = start();
    const viewer = await signIn(s, await token(s, { sub: "vic", scope: "view:alpha" }), "?drone=*");
    const everyone = await signIn(s, await token(s, { sub: "eve", scope: "view:*" }), "?drone=*");
    const pilot = await signIn(s, await token(s, { sub: "pat", scope: "fly:*" }));
    expect(await pilot.request("claim", { drone: "bravo" })).toMatchObject({ type: "ack" });
    expect(await pilot.request("claim", { drone: "alpha" })).toMatchObject({ type: "ack" });
    s.advance(0.5);
    await viewer.waitBatches((batches) => batches.length >= 3);
    await everyone.waitBatches((batches) => batches.length >= 3);
    expect(new Set(viewer.batches.flatMap((batch) => batch.frames.map((frame: { drone: string }) => frame.drone)))).toEqual(new Set(["alpha"]));
    expect(new Set(everyone.batches.flatMap((batch) => batch.frames.map((frame: { drone: string }) => frame.drone)))).toEqual(new Set(["alpha", "bravo"]));
    await everyone.take((m) => m?.type === "lease" && m.data.drone === "alpha");
    await viewer.take((m) => m?.type === "lease" && m.data.drone === "alpha");
    expect(everyone.messages.some((m) => m?.type === "lease" && m.data.drone === "bravo")).toBe(true);
    expect(JSON.stringify(viewer.messages)).not.toContain("bravo");
    expect(JSON.stringify(viewer.batches)).not.toContain("bravo");
  });
});

describe("who may fly", () => {
  test("fly:alpha view:* flies alpha and watches bravo, but cannot claim bravo; the pilot shown is the user", async () => {
    const s = start();
    const alice = await signIn(s, await token(s, { sub: "alice", name: "Alice", scope: "fly:alpha view:*" }));
    expect(alice.welcome.data.drones.map((d: { id: string }) => d.id)).toEqual(["alpha", "bravo"]);
    expect(await alice.request("claim", { drone: "alpha" })).toMatchObject({ type: "ack", data: { role: "pilot", pilot: alice.session } });
    const lease = await alice.take((m) => m?.type === "lease" && m.data.drone === "alpha");
    expect(lease.data).toMatchObject({ pilot: alice.session, pilotUser: "alice", pilotName: "Alice", reason: "claimed" });
    expect(await alice.request("command", { drone: "alpha", name: "takeoff" })).toMatchObject({ type: "ack" });
    expect(await alice.request("claim", { drone: "bravo" })).toMatchObject({
      type: "error",
      data: { code: "forbidden", field: "data.drone", message: "alice may not fly bravo: the token's scope needs fly:bravo or fly:*" },
    });
    s.advance(0.3);
    await alice.waitTelemetry((frames) => frames.some((frame) => frame.drone === "alpha" && frame.pilotUser === "alice"));
    const watcher = await signIn(s, await token(s, { sub: "w", scope: "view:*" }));
    expect(watcher.welcome.data.drones[0]).toMatchObject({ id: "alpha", pilot: alice.session, pilotUser: "alice", pilotName: "Alice" });
    expect(await watcher.request("command", { drone: "alpha", name: "land" })).toMatchObject({ type: "error", data: { code: "forbidden" } });
  });

  test("an admin takes alpha over with force; the previous pilot is told who took it; force without admin is forbidden", async () => {
    const s = start();
    const alice = await signIn(s, await token(s, { sub: "alice", name: "Alice", scope: "fly:*" }));
    const carol = await signIn(s, await token(s, { sub: "carol", name: "Carol", scope: "admin" }));
    const bob = await signIn(s, await token(s, { sub: "bob", scope: "fly:*" }));
    await alice.request("claim", { drone: "alpha" });
    expect(await bob.request("claim", { drone: "alpha" })).toMatchObject({ type: "error", data: { code: "lease_taken" } });
    expect(await bob.request("claim", { drone: "alpha", force: true })).toMatchObject({ type: "error", data: { code: "forbidden", message: "bob may not claim alpha by force: the token's scope needs admin" } });
    expect(await carol.request("claim", { drone: "alpha", force: true })).toMatchObject({ type: "ack", data: { role: "pilot", pilot: carol.session } });
    const told = await alice.take((m) => m?.type === "lease" && m.data.pilot === carol.session);
    expect(told.data).toMatchObject({ pilotUser: "carol", pilotName: "Carol", reason: "taken over by Carol (carol) from Alice (alice)" });
    expect(await alice.request("command", { drone: "alpha", name: "takeoff" })).toMatchObject({ type: "error", data: { code: "not_pilot" } });
    // Admin force-release, of anyone's lease.
    await alice.request("claim", { drone: "bravo" });
    expect(await carol.request("release", { drone: "bravo", force: true })).toMatchObject({ type: "ack", data: { role: "observer", pilot: null } });
    expect(s.flight.pilotOf("bravo")).toBeNull();
  });
});

test("the issue's scenario with a JWKS of two keys: alice flies alpha and watches bravo, cannot claim bravo; vic never learns bravo exists", async () => {
  const [k1, k2] = await Promise.all([testKeyPair("RS256", "k1"), testKeyPair("EdDSA", "k2")]);
  const path = join(await mkdtemp(join(tmpdir(), "skyport-jwks-")), "jwks.json");
  await writeFile(path, JSON.stringify({ keys: [k1.jwk, k2.jwk] }));
  const s = (server = startSimServer({ drones: ["alpha", "bravo"], jwtKeysFile: path }, { keys: await KeyStore.open(path) }));
  const exp = nowSeconds(s) + 600;
  const alice = await signIn(s, await signWith(k1, { sub: "alice", scope: "fly:alpha view:*", exp }), "?drone=*");
  const vic = await signIn(s, await signWith(k2, { sub: "vic", scope: "view:alpha", exp }), "?drone=*");
  expect(await alice.request("claim", { drone: "alpha" })).toMatchObject({ type: "ack" });
  expect(await alice.request("command", { drone: "alpha", name: "takeoff" })).toMatchObject({ type: "ack" });
  expect(await alice.request("claim", { drone: "bravo" })).toMatchObject({ type: "error", data: { code: "forbidden" } });
  s.advance(1);
  await alice.waitBatches((batches) => batches.some((batch) => batch.frames.some((frame: { drone: string }) => frame.drone === "bravo")));
  await vic.waitBatches((batches) => batches.length >= 5);
  expect(JSON.stringify([vic.welcome, vic.messages, vic.batches])).not.toContain("bravo");
  // A key of neither: unknown_key.
  const stranger = await testKeyPair("ES256", "k3");
  const refused = DroneTestClient.wrap(await openSocket(s.ws("/drone")));
  clients.push(refused);
  expect(await refused.request("hello", { token: await signWith(stranger, { sub: "eve", scope: "admin", exp }) })).toMatchObject({ data: { reason: "unknown_key" } });
});

describe("refusals", () => {
  test("each bad token has its reason in hello; the third failure closes 1008; a metric per reason", async () => {
    const s = start();
    const { pem } = await testKeyPair("RS256", "k");
    const now = nowSeconds(s);
    const base = { sub: "alice", scope: "view:*" };
    const cases: [string, string][] = [
      [await signHs256({ ...base, exp: now - 60 }), "expired"],
      [await signHs256({ ...base, exp: now + 600, nbf: now + 300 }), "not_yet_valid"],
      [await signHs256({ ...base, exp: now + 600 }, "x".repeat(40)), "bad_signature"],
      [unsignedToken({ ...base, exp: now + 600 }), "alg_none"],
      [await hs256WithPublicKey({ ...base, exp: now + 600 }, pem), "bad_signature"],
      ["not.a.jwt!", "malformed"],
      [await signHs256({ sub: "alice", scope: "email", exp: now + 600 }), "no_scope"],
    ];
    for (const [jwt, reason] of cases) {
      const client = DroneTestClient.wrap(await openSocket(s.ws("/drone")));
      clients.push(client);
      const reply = await client.request("hello", { token: jwt });
      expect({ reason, reply }).toMatchObject({ reason, reply: { type: "error", data: { code: "unauthorized", field: "data.token", reason } } });
      expect(JSON.stringify(reply)).not.toContain(jwt.slice(-16));
    }
    const client = DroneTestClient.wrap(await openSocket(s.ws("/drone")));
    clients.push(client);
    for (let i = 0; i < 3; i++) await client.request("hello", { token: unsignedToken({ ...base, exp: now + 600 }) });
    expect(await client.waitClose()).toEqual({ code: 1008, reason: "unauthorized: 3 failed attempts" });
    const metrics = await (await fetch(s.http("/metrics"))).text();
    for (const reason of ["expired", "not_yet_valid", "bad_signature", "alg_none", "malformed", "no_scope"]) expect(metrics).toContain(`skyport_auth_failures_total{reason="${reason}"}`);
    expect(metrics).toContain('skyport_auth_failures_total{reason="alg_none"} 4');
    expect(JSON.stringify(s.logger.lines)).not.toContain(cases[0]![0].slice(-16));
  });

  test("in the subprotocol: a valid JWT is welcomed at once; a bad one is 401 before the upgrade, with its reason", async () => {
    const s = start();
    const good = await token(s, { sub: "alice", scope: "view:alpha" });
    const client = await DroneTestClient.connect(s.ws("/drone"), ["skyport.v1.json", `skyport.token.${good}`]);
    clients.push(client);
    expect(client.ws.protocol).toBe("skyport.v1.json");
    expect(client.welcome.data.drones.map((d: { id: string }) => d.id)).toEqual(["alpha"]);
    const expired = await signHs256({ sub: "alice", scope: "view:*", exp: nowSeconds(s) - 60 });
    const refused = await rawConnect(s.port, { path: "/drone", headers: { "Sec-WebSocket-Protocol": `skyport.v1.json, skyport.token.${expired}` } });
    expect(refused.status).toBe(401);
    expect(refused.body).toStartWith("unauthorized (expired): ");
    expect(refused.headers["www-authenticate"]).toBe('Bearer error="invalid_token"');
    refused.close();
    expect(await (await fetch(s.http("/metrics"))).text()).toContain('skyport_auth_failures_total{reason="expired"} 1');
  });

  test("/api/controller takes the JWT as Authorization: Bearer, under the same rights", async () => {
    const s = start();
    const viewOnly = await token(s, { sub: "vic", scope: "view:alpha" });
    const ok = await rawConnect(s.port, { path: "/api/controller", headers: { Authorization: `Bearer ${viewOnly}` } });
    expect(ok.status).toBe(101);
    ok.close();
    const bad = await rawConnect(s.port, { path: "/api/controller", headers: { Authorization: `Bearer ${unsignedToken({ sub: "x", scope: "admin", exp: nowSeconds(s) + 60 })}` } });
    expect(bad.status).toBe(401);
    expect(bad.body).toStartWith("unauthorized (alg_none)");
    bad.close();
  });
});

describe("expiry", () => {
  test("warned 60 s before exp; a fresh hello of the same sub refreshes in place (lease and telemetry kept); another sub is refused", async () => {
    const s = start();
    const pilot = await signIn(s, await token(s, { sub: "alice", scope: "fly:alpha" }, 120));
    await pilot.request("claim", { drone: "alpha" });
    // Valid until exp plus the 5 s leeway (125 s): warned from 65 s on.
    s.advance(63);
    await pilot.request("ping");
    expect(pilot.messages.some((m) => m?.data?.kind === "token_expiring")).toBe(false);
    s.advance(2);
    const warning = await pilot.take((m) => m?.type === "event" && m.data.kind === "token_expiring");
    expect(warning.data).toMatchObject({ drone: "", expiresInSeconds: 60, expiresAt: (nowSeconds(s) - 65 + 125) * 1000 });
    const other = await pilot.request("hello", { token: await token(s, { sub: "mallory", scope: "admin" }) });
    expect(other).toMatchObject({ type: "error", data: { code: "unauthorized", reason: "subject_changed" } });
    expect(await pilot.request("hello", { token: await token(s, { sub: "alice", scope: "fly:alpha" }, 3600) })).toMatchObject({ type: "ack", data: { session: pilot.session } });
    const before = pilot.telemetry.length;
    s.advance(120);
    expect(pilot.closed).toBeNull();
    await pilot.waitTelemetry((frames) => frames.length > before + 1000);
    expect(s.flight.pilotOf("alpha")).toBe(pilot.session);
  });

  test("a token from the subprotocol expires the same way (exp plus the leeway)", async () => {
    const s = start();
    const jwt = await token(s, { sub: "alice", scope: "view:*" }, 30);
    const client = await DroneTestClient.connect(s.ws("/drone"), ["skyport.v1.json", `skyport.token.${jwt}`]);
    clients.push(client);
    s.advance(34);
    await client.request("ping");
    expect(client.closed).toBeNull();
    s.advance(2);
    expect(await client.waitClose()).toEqual({ code: 1008, reason: "token expired" });
  });

  test("a refresh applies the new token's rights: a drone it may no longer view stops at once", async () => {
    const s = start();
    const viewer = await signIn(s, await token(s, { sub: "vic", scope: "view:*" }), "?drone=*");
    s.advance(0.3);
    await viewer.waitBatches((batches) => batches.some((batch) => batch.frames.some((frame: { drone: string }) => frame.drone === "bravo")));
    expect(await viewer.request("hello", { token: await token(s, { sub: "vic", scope: "view:alpha" }) })).toMatchObject({ type: "ack" });
    const seen = viewer.batches.length;
    s.advance(0.5);
    await viewer.waitBatches((batches) => batches.length >= seen + 5);
    expect(viewer.batches.slice(seen).flatMap((batch) => batch.frames.map((frame: { drone: string }) => frame.drone))).not.toContain("bravo");
    expect(await viewer.request("subscribe", { drone: "bravo" })).toMatchObject({ type: "error", data: { code: "unknown_drone" } });
  });

  test("not refreshed: closed 1008 token expired at exp (plus the leeway), and a flying pilot's failsafe starts", async () => {
    const s = start();
    const pilot = await signIn(s, await token(s, { sub: "alice", scope: "fly:alpha" }, 30));
    const watcher = await signIn(s, await token(s, { sub: "w", scope: "view:*" }, 3600));
    await pilot.request("claim", { drone: "alpha" });
    await pilot.request("command", { drone: "alpha", name: "takeoff" });
    s.advance(30);
    expect(pilot.closed).toBeNull();
    s.advance(6);
    expect(await pilot.waitClose()).toEqual({ code: 1008, reason: "token expired" });
    const failsafe = await watcher.take((m) => m?.type === "event" && m.data.kind === "failsafe");
    expect(failsafe.data).toMatchObject({ drone: "alpha", action: "hover" });
    // The log names the user, never the token.
    expect(s.logger.lines.some((line) => line.event === "token_expired" && line.user === "alice")).toBe(true);
    expect(s.logger.lines.some((line) => line.event === "ws_close" && line.user === "alice" && line.code === 1008)).toBe(true);
  });
});
