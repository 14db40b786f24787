/**
 * Issue 14 across a cluster: two real `server.ts` nodes on a real Redis,
 * with a shared `--jwt-secret`. An op from a signed-in user on node B for a
 * drone node A flies carries the user's identity, and node A decides on the
 * same rights: fly:alpha claims and flies alpha, view:* is forbidden, an
 * admin takes over; viewers on A see the pilot's user.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { clusterSuite } from "../support/cluster.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { signHs256, testSecret } from "../support/jwt.ts";
import type { ServerProcess } from "../support/server.ts";
import { openSocket } from "../support/sockets.ts";

const cluster = clusterSuite({ beforeAll, afterAll, afterEach });

/** A socket on `node` signed in as `sub` with `scope`, welcomed. */
async function signIn(node: ServerProcess, sub: string, scope: string): Promise<DroneTestClient> {
  const client = DroneTestClient.wrap(await openSocket(node.ws("/drone")));
  cluster.clients.push(client);
  const token = await signHs256({ sub, name: sub.toUpperCase(), scope, exp: Math.floor(Date.now() / 1000) + 600 });
  client.send({ type: "hello", data: { token } });
  await client.welcomed();
  return client;
}

test("the owner node decides on the identity forwarded with each op", async () => {
  const { a, b } = await cluster.twoNodes(["--jwt-secret", testSecret]);
  const onA = await signIn(a, "watcher", "view:*");
  const alice = await signIn(b, "alice", "fly:alpha view:*");
  const viewer = await signIn(b, "vic", "view:*");
  const admin = await signIn(b, "carol", "admin");

  expect(await viewer.request("claim", { drone: "alpha" })).toMatchObject({ type: "error", data: { code: "forbidden", message: "vic may not fly alpha: the token's scope needs fly:alpha or fly:*" } });
  expect(await alice.request("claim", { drone: "alpha" })).toMatchObject({ type: "ack", data: { role: "pilot", pilot: alice.session } });
  const lease = await onA.take((m) => m?.type === "lease" && m.data.pilot === alice.session, 5000);
  expect(lease.data).toMatchObject({ pilotUser: "alice", pilotName: "ALICE" });
  expect(await alice.request("command", { drone: "alpha", name: "takeoff" })).toMatchObject({ type: "ack" });
  await onA.waitTelemetry((frames) => frames.some((frame) => frame.drone === "alpha" && frame.pilotUser === "alice"), 5000);
  expect(await alice.request("claim", { drone: "bravo" })).toMatchObject({ type: "error", data: { code: "forbidden" } });

  expect(await admin.request("claim", { drone: "alpha", force: true })).toMatchObject({ type: "ack", data: { pilot: admin.session } });
  const taken = await alice.take((m) => m?.type === "lease" && m.data.pilot === admin.session, 5000);
  expect(taken.data).toMatchObject({ pilotUser: "carol", reason: "taken over by CAROL (carol) from ALICE (alice)" });
}, 30_000);
