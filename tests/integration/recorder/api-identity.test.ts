/**
 * The flight recorder with identities (issue 14), real signatures on the
 * fake clock: a flight flown by a signed-in pilot names its user; the API
 * takes the same JWTs as /drone, shows a token only the vehicles it may
 * view, and deletes only with the admin right.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { DroneTestClient } from "../../support/drone-client.ts";
import { seconds, signHs256, testSecret, type TestClaims } from "../../support/jwt.ts";
import { tempDataDir } from "../../support/recorder.ts";
import { startSimServer } from "../../support/server.ts";
import { openSocket } from "../../support/sockets.ts";

const dir = tempDataDir();
let server: ReturnType<typeof startSimServer>;
const token = (claims: TestClaims) => signHs256({ exp: seconds(server.flight.wallMs()) + 3600, ...claims });
let flightIds: Record<string, string> = {};

beforeAll(async () => {
  server = startSimServer({ drones: ["alpha", "bravo"], jwtSecret: testSecret }, { recording: { store: openSqliteStore(dir.path), recovery: [] } });
  const pilot = DroneTestClient.wrap(await openSocket(server.ws("/drone")));
  pilot.send({ type: "hello", id: "hi", data: { token: await token({ sub: "alice", name: "Alice", scope: "fly:*" }) } });
  await pilot.welcomed();
  for (const drone of ["alpha", "bravo"]) {
    expect((await pilot.request("claim", { drone }, `c-${drone}`)).type).toBe("ack");
    expect((await pilot.request("command", { drone, name: "takeoff" }, `t-${drone}`)).type).toBe("ack");
  }
  server.advance(5);
  for (const drone of ["alpha", "bravo"]) expect((await pilot.request("command", { drone, name: "land" }, `l-${drone}`)).type).toBe("ack");
  server.advance(5);
  await server.recorder!.flush();
  flightIds = Object.fromEntries((await server.recorder!.store.flights({ limit: 10 })).map((f) => [f.drone, f.id]));
  pilot.ws.close();
});
afterAll(async () => {
  await server.stop();
  dir.remove();
});

const get = async (path: string, jwt: string | null, method = "GET") => fetch(server.http(path), { method, headers: jwt === null ? {} : { Authorization: `Bearer ${jwt}` } });

test("a flight names its signed-in pilot, and each command its user", async () => {
  const response = await get(`/api/flights/${flightIds.alpha}`, await token({ sub: "vic", scope: "view:*" }));
  expect(response.status).toBe(200);
  const { flight, commands } = await response.json();
  expect(flight.pilotUser).toBe("alice");
  expect(commands.map((c: any) => [c.requestId, c.userName])).toEqual([
    ["t-alpha", "alice"],
    ["l-alpha", "alice"],
  ]);
});

test("a token sees only the vehicles it may view; no token or a bad one is a 401", async () => {
  const alphaOnly = await token({ sub: "vic", scope: "view:alpha" });
  const listed = await (await get("/api/flights", alphaOnly)).json();
  expect(listed.flights.map((f: any) => f.drone)).toEqual(["alpha"]);
  expect((await get(`/api/flights/${flightIds.bravo}`, alphaOnly)).status).toBe(403);
  expect((await get(`/api/flights/${flightIds.bravo}/export?format=csv`, alphaOnly)).status).toBe(403);
  expect((await get("/api/flights?drone=bravo", alphaOnly)).status).toBe(403);
  expect((await get("/api/flights", null)).status).toBe(401);
  const forged = await signHs256({ sub: "mallory", scope: "view:*", exp: seconds(server.flight.wallMs()) + 3600 }, "another-secret-of-at-least-32-bytes");
  expect((await get("/api/flights", forged)).status).toBe(401);
});

test("deleting needs the admin right", async () => {
  const pilot = await token({ sub: "alice", scope: "fly:*" });
  const refused = await get(`/api/flights/${flightIds.bravo}`, pilot, "DELETE");
  expect(refused.status).toBe(403);
  expect((await refused.json()).error.message).toBe("deleting a flight needs the admin right: alice's token does not grant it");
  const admin = await token({ sub: "root", scope: "admin" });
  expect((await get(`/api/flights/${flightIds.bravo}`, admin, "DELETE")).status).toBe(200);
  expect((await get(`/api/flights/${flightIds.bravo}`, admin)).status).toBe(404);
});

test("an admin taking a flying drone over is recorded with both names, and the flight's commands name each sender", async () => {
  // Past the lease grace of the first pilot, whose socket closed.
  server.advance(4);
  const alice = DroneTestClient.wrap(await openSocket(server.ws("/drone")));
  alice.send({ type: "hello", id: "hi", data: { token: await token({ sub: "alice", name: "Alice", scope: "fly:*" }) } });
  await alice.welcomed();
  const claimed = await alice.request("claim", { drone: "alpha" }, "c2");
  expect(claimed.data).toMatchObject({ drone: "alpha", role: "pilot" });
  expect((await alice.request("command", { drone: "alpha", name: "takeoff" }, "t2")).type).toBe("ack");
  server.advance(3);
  const carol = DroneTestClient.wrap(await openSocket(server.ws("/drone")));
  carol.send({ type: "hello", id: "hi", data: { token: await token({ sub: "carol", name: "Carol", scope: "admin" }) } });
  await carol.welcomed();
  expect((await carol.request("claim", { drone: "alpha", force: true }, "force")).type).toBe("ack");
  expect((await carol.request("command", { drone: "alpha", name: "land" }, "l2")).type).toBe("ack");
  server.advance(5);
  await server.recorder!.flush();
  const [latest] = await server.recorder!.store.flights({ drone: "alpha", limit: 1 });
  const { events, commands } = await (await get(`/api/flights/${latest!.id}`, await token({ sub: "vic", scope: "view:*" }))).json();
  const takeover = events.find((event: any) => /taken over/.test(JSON.stringify(event)));
  expect(JSON.stringify(takeover)).toContain("Carol (carol)");
  expect(JSON.stringify(takeover)).toContain("Alice (alice)");
  expect(commands.map((c: any) => [c.requestId, c.userName])).toEqual([
    ["t2", "alice"],
    ["l2", "carol"],
  ]);
  alice.ws.close();
  carol.ws.close();
});
