/**
 * The recorder on PostgreSQL with real processes: two `server.ts` nodes on
 * one Redis and one PostgreSQL record into the same database, so a flight
 * flown through one node is listed, with its frames and events, by the other;
 * and a node killed mid-flight leaves its flight to the node that takes the
 * drone over, which carries it on under the same id.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { startPostgres, type PostgresServer } from "../support/postgres.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

let postgres: PostgresServer;
let redis: RedisServer;
const nodes: ServerProcess[] = [];

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
}, 30_000);
/** Kills every node started so far and empties Redis: each test starts its own cluster. */
async function stopNodes(): Promise<void> {
  for (const node of nodes.splice(0)) {
    node.proc.kill("SIGKILL");
    await node.exited;
  }
}
afterEach(async () => {
  await stopNodes();
  await redis.restart();
});
afterAll(async () => {
  await stopNodes();
  await Promise.all([postgres?.stop(), redis?.stop()]);
}, 20_000);

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/**
 * Node A (first, so it flies alpha) and node B on one Redis and a fresh
 * PostgreSQL database, both recording; a pilot connected to B claims alpha
 * and takes off.
 */
async function pilotOnB(databaseName: string): Promise<{ a: ServerProcess; b: ServerProcess; pilot: DroneTestClient }> {
  const database = await postgres.createDatabase(databaseName);
  const flags = ["--no-record=false", "--database", database, "--redis", redis.url, "--drones", "alpha", "--telemetry-hz", "10"];
  const a = await spawnServer([...flags, "--node-id", "node-a"], 20_000);
  nodes.push(a);
  await until("node-a to own alpha", async () => (await (await fetch(a.http("/healthz"))).json()).cluster?.ownedDrones?.length === 1);
  const b = await spawnServer([...flags, "--node-id", "node-b"], 20_000);
  nodes.push(b);
  await until("node-b to see alpha's owner", async () => {
    const cluster = (await (await fetch(b.http("/healthz"))).json()).cluster;
    return cluster?.redis === "up" && cluster.catchUps > 0 && cluster.ticksReceived > 0;
  });
  const pilot = await DroneTestClient.connect(b.ws("/drone"));
  expect((await pilot.request("claim", { drone: "alpha" }, "c")).type).toBe("ack");
  expect((await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t")).type).toBe("ack");
  await pilot.done("t", 10_000);
  return { a, b, pilot };
}

test("two clustered nodes record into one PostgreSQL: a flight flown through one is read back from the other", async () => {
  const { a, b, pilot } = await pilotOnB("cluster");
  expect((await pilot.request("command", { drone: "alpha", name: "land" }, "l")).type).toBe("ack");
  await pilot.done("l", 15_000);

  let flight: any = null;
  await until("the finished flight on node-b's API", async () => {
    const { flights } = await (await fetch(b.http("/api/flights"))).json();
    flight = flights.find((f: any) => f.endReason === "landed") ?? null;
    return flight !== null;
  });
  expect(flight).toMatchObject({ drone: "alpha", open: false });
  expect(flight.maxAltitude).toBeGreaterThan(1);
  const fromA = await (await fetch(a.http(`/api/flights/${flight.id}`))).json();
  expect(fromA.flight.id).toBe(flight.id);
  expect(fromA.events.map((e: any) => e.kind)).toContain("landed");
  // Sent through node-b, run and recorded by node-a, which flies alpha: each with its answer and its end.
  expect(fromA.commands.map((c: any) => [c.requestId, c.session, c.answer, c.outcome])).toEqual([
    ["t", pilot.session, "ack", "completed"],
    ["l", pilot.session, "ack", "completed"],
  ]);
  const telemetry = await (await fetch(a.http(`/api/flights/${flight.id}/telemetry`))).json();
  expect(telemetry.frames.length).toBe(flight.frames);
  pilot.close();
}, 60_000);

test("a node dies mid-flight: the node that takes the drone over carries the same flight on, and ends the dead node's command as failed", async () => {
  // The pilot flies through node-b; node-a flies alpha and records the flight.
  const { a, b, pilot } = await pilotOnB("takeover");
  let before: any = null;
  await until("the open flight, recorded by node-a", async () => {
    const { flights } = await (await fetch(b.http("/api/flights"))).json();
    before = flights.find((f: any) => f.open) ?? null;
    return before !== null;
  });
  // A long move, still under way when node-a dies.
  expect((await pilot.request("command", { drone: "alpha", name: "forward", args: [40] }, "f")).type).toBe("ack");
  await until("the move to be recorded", async () => (await (await fetch(b.http(`/api/flights/${before.id}`))).json()).commands.some((c: any) => c.requestId === "f"));

  a.proc.kill("SIGKILL");
  await a.exited;
  await until("node-b to take alpha over", async () => (await (await fetch(b.http("/healthz"))).json()).cluster.ownedDrones.includes("alpha"), 10_000);
  expect((await pilot.done("f", 5000)).data.status).toBe("failed");

  // The pilot, on a live node, keeps the lease and lands: one flight from takeoff to landing, across both nodes.
  expect((await pilot.request("command", { drone: "alpha", name: "land" }, "l")).type).toBe("ack");
  await pilot.done("l", 20_000);
  let flights: any[] = [];
  await until("the flight to close", async () => {
    flights = (await (await fetch(b.http("/api/flights?drone=alpha"))).json()).flights;
    return flights.length > 0 && flights.every((f: any) => !f.open);
  });
  expect(flights.map((f: any) => [f.id, f.endReason])).toEqual([[before.id, "landed"]]);
  const detail = await (await fetch(b.http(`/api/flights/${before.id}`))).json();
  expect(detail.commands.map((c: any) => [c.requestId, c.outcome])).toEqual([
    ["t", "completed"],
    ["f", "failed"],
    ["l", "completed"],
  ]);
  expect(detail.commands[1].outcomeReason).toBe("node node-a, which ran it, stopped answering before it ended");
  expect(detail.events.map((e: any) => e.kind)).toContain("failover");
  expect(detail.events.map((e: any) => e.kind)).toContain("landed");
  pilot.close();
}, 90_000);
