/**
 * The recorder on PostgreSQL with real processes: two `server.ts` nodes on
 * one Redis and one PostgreSQL record into the same database, so a flight
 * flown through one node is listed, with its frames and events, by the other.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
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
afterAll(async () => {
  for (const node of nodes) {
    node.proc.kill("SIGKILL");
    await node.exited;
  }
  await Promise.all([postgres?.stop(), redis?.stop()]);
}, 20_000);

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

test("two clustered nodes record into one PostgreSQL: a flight flown through one is read back from the other", async () => {
  const database = await postgres.createDatabase("cluster");
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
