/**
 * Issue 19 #13: a session id is the pilot's credential, so it has full
 * entropy (128 bits), and an id already in use never acts as that session.
 */
import { afterEach, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { startSimServer } from "../support/server.ts";

let server: ReturnType<typeof startSimServer> | null = null;
const clients: DroneTestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.stop();
  server = null;
});

test("a session id carries 128 random bits (22 base64url characters)", async () => {
  server = startSimServer();
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const client = await DroneTestClient.connect(server.ws("/drone"));
    clients.push(client);
    expect(client.session).toMatch(/^[A-Za-z0-9_-]{22}$/);
    seen.add(client.session);
  }
  expect(seen.size).toBe(4);
});

test("a second socket that drew a live session's id is refused and cannot act as it", async () => {
  server = startSimServer();
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  clients.push(pilot);
  expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");

  // Every random source the server may draw an id from now repeats the pilot's id.
  const realUuid = crypto.randomUUID.bind(crypto);
  const realRandom = crypto.getRandomValues.bind(crypto);
  const pilotBytes = new Uint8Array(Buffer.from(pilot.session, "base64url"));
  (crypto as any).randomUUID = () => `${pilot.session.slice(0, 8)}-0000-4000-8000-000000000000`;
  (crypto as any).getRandomValues = <T extends ArrayBufferView | null>(array: T): T => {
    if (array instanceof Uint8Array && array.length === pilotBytes.length) array.set(pilotBytes);
    else realRandom(array as any);
    return array;
  };
  let twin: DroneTestClient | null = null;
  let refused: unknown = null;
  try {
    twin = await DroneTestClient.connect(server.ws("/drone"));
    clients.push(twin);
  } catch (error) {
    refused = error;
  } finally {
    (crypto as any).randomUUID = realUuid;
    (crypto as any).getRandomValues = realRandom;
  }
  if (twin !== null) {
    // Welcomed: it must not be the pilot's session, nor able to release the pilot's lease.
    expect(twin.session).not.toBe(pilot.session);
    const release = await twin.request("release", { drone: "alpha" });
    expect(release.type).toBe("error");
  } else {
    expect(String(refused)).toContain("closed");
  }
  expect(server.flight.fleet.pilotOf("alpha")).toBe(pilot.session);
  // The pilot is unaffected: its session still flies.
  const takeoff = await pilot.request("command", { drone: "alpha", name: "takeoff" });
  expect(takeoff.type).toBe("ack");
});
