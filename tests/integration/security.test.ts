/** Who may connect and fly: origins, viewer and pilot tokens, and per-socket limits. */
import { afterEach, describe, expect, test } from "bun:test";
import { addressKey, AuthBackoff, clientAddress, ipv6Groups, originAllowed, parseOfferedProtocols, tokensEqual } from "../../src/edge/security.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { rawConnect } from "../support/raw.ts";
import { startSimServer } from "../support/server.ts";
import { Inbox, openSocket, waitUntil } from "../support/sockets.ts";

let server: ReturnType<typeof startSimServer> | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

function start(overrides: Parameters<typeof startSimServer>[0] = {}) {
  server = startSimServer(overrides);
  return server;
}

describe("origin check (Cross-Site WebSocket Hijacking)", () => {
  test("pure rules: own origin and no origin pass; others only when listed or *", () => {
    const none = new Set<string>();
    expect(originAllowed(null, "localhost:8080", none)).toBe(true);
    expect(originAllowed("http://localhost:8080", "localhost:8080", none)).toBe(true);
    expect(originAllowed("https://LOCALHOST:8080", "localhost:8080", none)).toBe(true);
    expect(originAllowed("https://evil.example", "localhost:8080", none)).toBe(false);
    expect(originAllowed("null", "localhost:8080", none)).toBe(false);
    expect(originAllowed("https://app.example", "localhost:8080", new Set(["https://app.example"]))).toBe(true);
    expect(originAllowed("https://evil.example", "localhost:8080", "*")).toBe(true);
  });

  test.each(["/echo", "/drone", "/api/controller"])("a foreign origin gets 403 and no upgrade on %s", async (path) => {
    const s = start();
    const conn = await rawConnect(s.port, { path, headers: { Origin: "https://evil.example" } });
    expect(conn.status).toBe(403);
    expect(conn.body).toContain("https://evil.example");
    conn.close();
    const own = await rawConnect(s.port, { path, headers: { Origin: `http://127.0.0.1:${s.port}` } });
    expect(own.status).toBe(101);
    own.close();
  });

  test("--allowed-origins admits the listed origin", async () => {
    const s = start({ allowedOrigins: new Set(["https://app.example"]) });
    const conn = await rawConnect(s.port, { path: "/drone", headers: { Origin: "https://app.example" } });
    expect(conn.status).toBe(101);
    conn.close();
  });
});

describe("DNS rebinding: Host must name this server (issue 19 #12)", () => {
  test.each(["/echo", "/drone", "/api/controller"])("a rebound name in Host and Origin gets 403 saying how to allow it, before any upgrade on %s", async (path) => {
    const s = start();
    const host = `rebind.example:${s.port}`;
    const conn = await rawConnect(s.port, { path, headers: { Host: host, Origin: `http://${host}` } });
    expect(conn.status).toBe(403);
    expect(conn.body).toContain(`"${host}"`);
    expect(conn.body).toContain("--allowed-hosts rebind.example");
    conn.close();
    // Loopback names and IP literals are this server's names.
    for (const own of [`localhost:${s.port}`, `app.localhost:${s.port}`, `127.0.0.1:${s.port}`, `[::1]:${s.port}`]) {
      const ok = await rawConnect(s.port, { path, headers: { Host: own, Origin: `http://${own}` } });
      expect(ok.status).toBe(101);
      ok.close();
    }
  });

  test("/healthz and /metrics refuse a rebound Host too", async () => {
    const s = start();
    for (const path of ["/healthz", "/metrics", "/nope"]) {
      const conn = await rawConnect(s.port, { path, headers: { Host: "rebind.example", Upgrade: null, Connection: null } });
      expect(conn.status).toBe(403);
      conn.close();
    }
  });

  test("--allowed-hosts admits a configured name and its subdomains with a leading dot", async () => {
    const s = start({ allowedHosts: new Set(["drones.example", ".fleet.example"]) });
    for (const host of ["drones.example", "DRONES.example.", "a.fleet.example", "fleet.example"]) {
      const conn = await rawConnect(s.port, { path: "/drone", headers: { Host: `${host}:${s.port}` } });
      expect(conn.status).toBe(101);
      conn.close();
    }
    const other = await rawConnect(s.port, { path: "/drone", headers: { Host: "evil-drones.example" } });
    expect(other.status).toBe(403);
    other.close();
  });
});

describe("viewer token", () => {
  test("pure: tokens compare exactly; the token subprotocol is split from real ones", () => {
    expect(tokensEqual("s3cret", "s3cret")).toBe(true);
    expect(tokensEqual("s3cre", "s3cret")).toBe(false);
    expect(tokensEqual("s3cret!", "s3cret")).toBe(false);
    expect(tokensEqual("", "s3cret")).toBe(false);
    expect(parseOfferedProtocols("skyport.v1.json, skyport.token.abc")).toEqual({ protocols: ["skyport.v1.json"], token: "abc" });
  });

  test("without the token, a socket gets nothing but unauthorized; hello with it gets the welcome", async () => {
    const s = start({ viewerToken: "let-me-watch" });
    const ws = await openSocket(s.ws("/drone"));
    const inbox = new Inbox(ws);
    s.advance(0.5);
    ws.send(JSON.stringify({ type: "ping", id: 1 }));
    const refused = JSON.parse((await inbox.next()) as string);
    expect(refused).toMatchObject({ type: "error", id: 1, data: { code: "unauthorized" } });
    expect(refused.data.message).toContain("hello");
    ws.send(JSON.stringify({ type: "hello", id: 2, data: { token: "let-me-watch" } }));
    expect(JSON.parse((await inbox.next()) as string)).toMatchObject({ type: "ack", id: 2 });
    expect(JSON.parse((await inbox.next()) as string).type).toBe("welcome");
    s.advance(0.1);
    expect(JSON.parse((await inbox.next()) as string).type).toBe("telemetry");
  });

  test("three failures close with 1008, and the token is never echoed", async () => {
    const s = start({ viewerToken: "let-me-watch" });
    const ws = await openSocket(s.ws("/drone"));
    const inbox = new Inbox(ws);
    for (let i = 0; i < 3; i++) ws.send(JSON.stringify({ type: "hello", id: i, data: { token: `guess-${i}` } }));
    for (let i = 0; i < 3; i++) {
      const reply = (await inbox.next()) as string;
      expect(JSON.parse(reply)).toMatchObject({ type: "error", id: i, data: { code: "unauthorized", field: "data.token" } });
      expect(reply).not.toContain("let-me-watch");
    }
    expect((await inbox.waitClose()).code).toBe(1008);
    expect(JSON.stringify(s.logger.lines)).not.toContain("let-me-watch");
  });

  test("the token may come in Sec-WebSocket-Protocol; a wrong one gets 401; the token is never selected", async () => {
    const s = start({ viewerToken: "let-me-watch" });
    const client = await DroneTestClient.connect(s.ws("/drone"), ["skyport.v1.json", "skyport.token.let-me-watch"]);
    expect(client.ws.protocol).toBe("skyport.v1.json");
    expect(client.welcome.data.session).toBe(client.session);
    const wrong = await rawConnect(s.port, { path: "/drone", headers: { "Sec-WebSocket-Protocol": "skyport.v1.json, skyport.token.nope" } });
    expect(wrong.status).toBe(401);
    wrong.close();
  });

  test("a socket that never authenticates is closed after 10 s", async () => {
    const s = start({ viewerToken: "let-me-watch" });
    const ws = await openSocket(s.ws("/drone"));
    const inbox = new Inbox(ws);
    s.advance(9);
    ws.send(JSON.stringify({ type: "ping", id: "still-open" }));
    expect(JSON.parse((await inbox.next()) as string)).toMatchObject({ id: "still-open", data: { code: "unauthorized" } });
    s.advance(2);
    const closed = await inbox.waitClose();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain("viewer token");
  });
});

describe("one viewer-token rule for every endpoint that exposes a drone (issue 19 #11)", () => {
  test("/api/controller without the viewer token reads no state and flies nothing; the refusal says why", async () => {
    const s = start({ viewerToken: "let-me-watch" });
    const ws = await openSocket(s.ws("/api/controller"));
    const inbox = new Inbox(ws);
    ws.send("STATUS");
    const status = (await inbox.next()) as string;
    expect(status).toStartWith("- Drone ERROR (STATUS): unauthorized");
    expect(status).toContain("viewer token");
    expect(status).toContain("Go tutorial");
    expect(status).not.toContain("battery");
    ws.send("UP 10");
    expect(await inbox.next()).toStartWith("- Drone ERROR (UP 10): unauthorized");
    s.advance(1);
    expect(s.flight.fleet.state("alpha").state).toBe("landed");
    expect(s.flight.fleet.pilotOf("alpha")).toBeNull();
    // The third failed attempt closes the socket, as on /drone.
    ws.send("LAND");
    await inbox.next();
    expect((await inbox.waitClose()).code).toBe(1008);
  });

  test("/api/controller with the viewer token in Sec-WebSocket-Protocol flies; a wrong token is 401", async () => {
    const s = start({ viewerToken: "let-me-watch" });
    const ws = await openSocket(s.ws("/api/controller"), ["skyport.token.let-me-watch"]);
    const inbox = new Inbox(ws);
    ws.send("STATUS");
    expect(await inbox.next()).toStartWith("- Drone OK (STATUS)");
    const wrong = await rawConnect(s.port, { path: "/api/controller", headers: { "Sec-WebSocket-Protocol": "skyport.token.nope" } });
    expect(wrong.status).toBe(401);
    wrong.close();
  });
});

describe("token guessing backs off per address (issue 19 #14)", () => {
  test("pure: 10 free failures, then 1, 2, 4 ... 60 s; waiting attempts do not lengthen it; per /64; forgotten after 10 min", () => {
    const backoff = new AuthBackoff();
    for (let i = 0; i < 10; i++) backoff.failed("2001:db8::1", 0);
    expect(backoff.waitMs("2001:db8::2", 0)).toBe(0);
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 9; i++) {
      backoff.failed("2001:db8::3", now);
      waits.push(backoff.waitMs("2001:db8::1", now));
      now += waits.at(-1)!;
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(backoff.waitMs("203.0.113.7", now)).toBe(0);
    backoff.failed("2001:db8::1", now + 11 * 60_000);
    expect(backoff.waitMs("2001:db8::1", now + 11 * 60_000)).toBe(0);
  });

  test("after 10 wrong tokens from one address, no token is compared until the wait is over, on any socket or path", async () => {
    const s = start({ viewerToken: "let-me-watch", pilotToken: "pilot-only" });
    // Ten wrong guesses over four sockets (each socket closes after its third).
    let guesses = 0;
    while (guesses < 11) {
      const ws = await openSocket(s.ws("/drone"));
      const inbox = new Inbox(ws);
      for (let i = 0; i < 3 && guesses < 11; i++, guesses++) {
        ws.send(JSON.stringify({ type: "hello", id: guesses, data: { token: `guess-${guesses}` } }));
        expect(JSON.parse((await inbox.next()) as string)).toMatchObject({ data: { code: "unauthorized", message: "wrong viewer token" } });
      }
      ws.close();
      await inbox.waitClose();
    }
    // The 11th failure began a 1 s wait: even the right token is refused, unread, saying how long to wait.
    const waiting = await openSocket(s.ws("/drone"));
    const inbox = new Inbox(waiting);
    waiting.send(JSON.stringify({ type: "hello", id: "right", data: { token: "let-me-watch" } }));
    const refused = JSON.parse((await inbox.next()) as string);
    expect(refused).toMatchObject({ id: "right", data: { code: "unauthorized" } });
    expect(refused.data.message).toBe("too many failed token attempts from your address: try again in 1 s");
    const viaHeader = await rawConnect(s.port, { path: "/drone", headers: { "Sec-WebSocket-Protocol": "skyport.token.let-me-watch" } });
    expect(viaHeader.status).toBe(429);
    expect(viaHeader.headers["retry-after"]).toBe("1");
    viaHeader.close();
    // Once the wait is over the right token works again.
    s.advance(1.1);
    waiting.send(JSON.stringify({ type: "hello", id: "again", data: { token: "let-me-watch" } }));
    expect(JSON.parse((await inbox.next()) as string)).toMatchObject({ type: "ack", id: "again" });
  });
});

describe("pilot token", () => {
  test("claim needs the token; a wrong or missing one is unauthorized; the right one flies", async () => {
    const s = start({ pilotToken: "pilot-only" });
    const client = await DroneTestClient.connect(s.ws("/drone"));
    expect((await client.request("claim", { drone: "alpha" })).data).toMatchObject({ code: "unauthorized", field: "data.token" });
    expect((await client.request("claim", { drone: "alpha", token: "nope" })).data).toMatchObject({ code: "unauthorized" });
    expect((await client.request("claim", { drone: "alpha", token: "pilot-only" })).type).toBe("ack");
    expect(s.flight.fleet.pilotOf("alpha")).toBe(client.session);
  });

  test("text commands cannot claim implicitly; three failures close with 1008", async () => {
    const s = start({ pilotToken: "pilot-only" });
    const client = await DroneTestClient.connect(s.ws("/drone"));
    for (let i = 0; i < 3; i++) {
      client.send("takeoff");
      expect(await client.take((m) => typeof m === "string")).toStartWith("error unauthorized: ");
    }
    expect((await client.waitClose()).code).toBe(1008);
    expect(s.flight.fleet.pilotOf("alpha")).toBeNull();
  });

  test("the tutorial controller cannot fly a token-protected drone", async () => {
    const s = start({ pilotToken: "pilot-only" });
    const ws = await openSocket(s.ws("/api/controller"));
    const inbox = new Inbox(ws);
    ws.send("UP 10");
    expect(await inbox.next()).toStartWith("- Drone ERROR (UP 10): unauthorized");
    expect(s.flight.fleet.state("alpha").state).toBe("landed");
  });
});

describe("client addresses (issue 19 #14)", () => {
  test("pure: IPv6 counts per /64, IPv4-mapped as IPv4; X-Forwarded-For's last hop only when trusted and an IP", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("2001:db8:1:2::a")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0DB8:0001:0002:ffff:0:0:1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(addressKey("unknown")).toBe("unknown");
    expect(ipv6Groups("1::2::3")).toBeNull();
    expect(ipv6Groups("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(clientAddress("10.0.0.1, 198.51.100.7", "127.0.0.1", true)).toBe("198.51.100.7");
    expect(clientAddress("10.0.0.1, 198.51.100.7", "127.0.0.1", false)).toBe("127.0.0.1");
    expect(clientAddress("198.51.100.7, not-an-ip", "127.0.0.1", true)).toBe("127.0.0.1");
    expect(clientAddress("999.1.1.1", "127.0.0.1", true)).toBe("127.0.0.1");
    expect(clientAddress(null, null, true)).toBe("unknown");
  });
});

describe("limits", () => {
  test("max connections: 503 before the upgrade; per address: 429", async () => {
    const s = start({ maxConnections: 3, maxConnectionsPerIp: 100 });
    const open = await Promise.all([1, 2, 3].map(() => openSocket(s.ws("/echo"))));
    const full = await rawConnect(s.port, { path: "/echo" });
    expect(full.status).toBe(503);
    full.close();
    open[0]!.close();
    await new Promise((resolve) => (open[0]!.onclose = resolve));
    const again = await rawConnect(s.port, { path: "/echo" });
    expect(again.status).toBe(101);
    again.close();
    for (const ws of open) ws.close();

    const perIp = start({ maxConnections: 100, maxConnectionsPerIp: 2 });
    await Promise.all([1, 2].map(() => openSocket(perIp.ws("/echo"))));
    const third = await rawConnect(perIp.port, { path: "/drone" });
    expect(third.status).toBe(429);
    expect(third.body).toContain("at most 2");
    third.close();
  });

  test("per-address limits count an IPv6 /64 as one address; --trust-proxy takes X-Forwarded-For's last hop (issue 19 #14)", async () => {
    const s = start({ maxConnections: 100, maxConnectionsPerIp: 2, trustProxy: true });
    const via = (forwarded: string) => rawConnect(s.port, { path: "/echo", headers: { "X-Forwarded-For": forwarded } });
    // Two clients of one /64 fill its two slots; a third address of that /64 is refused, another /64 is not.
    const a = await via("203.0.113.9, 2001:db8:1:2::a");
    const b = await via("2001:DB8:1:2:0:0:0:b");
    expect([a.status, b.status]).toEqual([101, 101]);
    const sameNet = await via("2001:db8:1:2:ffff::1");
    expect(sameNet.status).toBe(429);
    expect(sameNet.body).toContain("2001:db8:1:2:ffff::1");
    expect(sameNet.body).toContain("/64");
    const otherNet = await via("2001:db8:1:3::a");
    expect(otherNet.status).toBe(101);
    // Behind the proxy, clients are told apart by the hop it appended, not the proxy's own address.
    const v4 = await Promise.all([via("198.51.100.7"), via("198.51.100.8"), via("198.51.100.8")]);
    expect(v4.map((c) => c.status)).toEqual([101, 101, 101]);
    // The log names the client, not the proxy.
    await waitUntil(() => JSON.stringify(s.logger.lines).includes("198.51.100.7"), 2000, "a log line naming the forwarded client");
    for (const conn of [a, b, sameNet, otherNet, ...v4]) conn.close();
  });

  test("without --trust-proxy, X-Forwarded-For is ignored: everyone behind it is one address", async () => {
    const s = start({ maxConnections: 100, maxConnectionsPerIp: 2 });
    const via = (forwarded: string) => rawConnect(s.port, { path: "/echo", headers: { "X-Forwarded-For": forwarded } });
    const open = [await via("198.51.100.7"), await via("198.51.100.8")];
    const third = await via("198.51.100.9");
    expect(third.status).toBe(429);
    expect(third.body).toContain("127.0.0.1");
    for (const conn of [...open, third]) conn.close();
  });

  test("max subscriptions per socket", async () => {
    const s = start({ drones: ["a", "b", "c"], maxSubscriptions: 2 });
    const client = await DroneTestClient.connect(s.ws("/drone"));
    expect(client.welcome.data.subscribed).toEqual(["a", "b"]);
    expect((await client.request("subscribe", { drone: "c" })).data).toMatchObject({ code: "too_many_subscriptions" });
    await client.request("unsubscribe", { drone: "a" });
    expect((await client.request("subscribe", { drone: "c" })).type).toBe("ack");
    const refused = await rawConnect(s.port, { path: "/drone?drone=a,b,c" });
    expect(refused.status).toBe(400);
    refused.close();
  });

  test("the /drone message size limit is configurable", async () => {
    const s = start({ droneMaxBytes: 1024 });
    const client = await DroneTestClient.connect(s.ws("/drone"));
    client.send("x".repeat(1025));
    expect((await client.waitClose()).code).toBe(1009);
  });

  test("the command rate is configurable and announced", async () => {
    const s = start({ commandsPerSecond: 5 });
    const client = await DroneTestClient.connect(s.ws("/drone"));
    expect(client.welcome.data.limits.commandsPerSecond).toBe(5);
    for (let i = 0; i < 6; i++) client.send({ type: "ping", id: i });
    expect((await client.take((m) => m.id === 5)).data.code).toBe("rate_limited");
  });
});
