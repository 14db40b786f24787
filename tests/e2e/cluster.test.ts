/**
 * Scale-out on Redis, end to end: a real redis-server and real `server.ts`
 * processes on loopback. Telemetry of a drone simulated by node A reaches a
 * viewer on node B; a pilot on B flies it; killing A hands the drone to B
 * within the owner lease with seq continuing; resume with `since` works
 * across nodes; a Redis restart is survived by both nodes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

let redis: RedisServer;
const nodes: ServerProcess[] = [];
const clients: DroneTestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const node of nodes.splice(0)) {
    node.proc.kill("SIGKILL");
    await node.exited;
  }
  // A fresh cluster per test: no owner keys, frames or leases left behind.
  await redisCommand(["FLUSHALL"]);
});

async function redisCommand(args: string[]): Promise<unknown> {
  const { RedisClient } = await import("bun");
  const client = new RedisClient(redis.url, { autoReconnect: false });
  try {
    await client.connect();
    return await client.send(args[0]!, args.slice(1));
  } finally {
    client.close();
  }
}

/** Starts a node of the cluster; `drones` as --drones, `extra` more flags. */
async function startNode(name: string, drones = "alpha,bravo", extra: string[] = []): Promise<ServerProcess> {
  const node = await spawnServer(["--redis", redis.url, "--node-id", name, "--drones", drones, "--telemetry-hz", "10", ...extra]);
  nodes.push(node);
  return node;
}

async function health(node: ServerProcess): Promise<any> {
  return (await fetch(node.http("/healthz"))).json();
}

/** Polls until `condition` holds, or fails naming what was awaited. */
async function until<T>(what: string, probe: () => Promise<T>, condition: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!condition(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(last)}`);
    await Bun.sleep(50);
    last = await probe();
  }
  return last;
}

async function viewer(node: ServerProcess, path = "/drone?drone=alpha"): Promise<DroneTestClient> {
  const client = await DroneTestClient.connect(node.ws(path));
  clients.push(client);
  return client;
}

const seqsOf = (client: DroneTestClient, drone = "alpha") => client.telemetry.filter((f) => f.drone === drone).map((f) => f.seq as number);
const consecutive = (seqs: number[]) => seqs.every((seq, i) => i === 0 || seq === seqs[i - 1]! + 1);

/** Node A starts first and simulates every drone; node B joins and simulates none. */
async function twoNodes(extra: string[] = []) {
  const a = await startNode("node-a", undefined, extra);
  await until("node-a to own both drones", () => health(a), (h) => h.cluster?.ownedDrones?.length === 2);
  const b = await startNode("node-b", undefined, extra);
  await until("node-b to connect to redis", () => health(b), (h) => h.cluster?.redis === "up");
  expect((await health(b)).cluster.ownedDrones).toEqual([]);
  return { a, b };
}

describe("two nodes, one Redis", () => {
  test("a viewer on node B receives node A's drone with strictly increasing seq; both report healthy", async () => {
    const { a, b } = await twoNodes();
    const onB = await viewer(b);
    await onB.waitTelemetry((frames) => frames.length >= 20, 5000);
    const seqs = seqsOf(onB);
    expect(consecutive(seqs)).toBe(true);
    expect(onB.welcome.data.drones.map((d: any) => d.id)).toEqual(["alpha", "bravo"]);
    expect((await health(a)).status).toBe("ok");
    expect((await health(b)).status).toBe("ok");
    const metrics = await (await fetch(b.http("/metrics"))).text();
    expect(metrics).toMatch(/^skyport_redis_up 1$/m);
    expect(metrics).toMatch(/^skyport_drones_owned 0$/m);
    expect(Number(/^skyport_cluster_ticks_received_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  }, 20_000);

  test("a pilot on node B flies node A's drone: acks, done, telemetry and the lease seen on A", async () => {
    const { a, b } = await twoNodes();
    const onA = await viewer(a);
    const pilot = await viewer(b);
    const claim = await pilot.request("claim", { drone: "alpha" });
    expect(claim.data).toEqual({ drone: "alpha", role: "pilot", pilot: pilot.session, resume: expect.any(String) });
    const lease = await onA.take((m) => m.type === "lease" && m.data.pilot === pilot.session, 3000);
    expect(lease.data.drone).toBe("alpha");

    const takeoff = await pilot.request("command", { drone: "alpha", name: "takeoff" }, 7);
    expect(takeoff.type).toBe("ack");
    expect(takeoff.data.target.z).toBeGreaterThan(0);
    const done = await pilot.done(7, 10_000);
    expect(done.data).toMatchObject({ drone: "alpha", command: "takeoff", status: "completed" });
    await onA.waitTelemetry((frames) => frames.some((f) => f.state === "hovering" && f.pilot === pilot.session), 3000);

    // Another viewer on A is an observer: the owner refuses it.
    const refused = await onA.request("command", { drone: "alpha", name: "land" });
    expect(refused.data.code).toBe("not_pilot");
    // The pilot leaves: the lease goes, and the failsafe engages on node A.
    pilot.close();
    const failsafe = await onA.take((m) => m.type === "event" && m.data.kind === "failsafe", 5000);
    expect(failsafe.data.drone).toBe("alpha");
  }, 30_000);

  test("killing node A hands its drones to B within the owner lease; seq continues and B's pilot keeps flying", async () => {
    const { a, b } = await twoNodes();
    const onB = await viewer(b);
    const pilot = await viewer(b, "/drone?drone=bravo");
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    await onB.waitTelemetry((frames) => frames.length >= 10, 5000);

    a.proc.kill("SIGKILL");
    const killedAt = Date.now();
    const before = seqsOf(onB).length;
    const failover = await onB.take((m) => m.type === "event" && m.data.kind === "failover", 6000);
    const failoverMs = Date.now() - killedAt;
    expect(failover.data).toMatchObject({ drone: "alpha", node: "node-b", previousNode: "node-a" });
    await onB.waitTelemetry((frames) => frames.length >= before + 5, 3000);
    const seqs = seqsOf(onB);
    // Not a single frame missing or repeated across the takeover, and no restart at 0.
    expect(consecutive(seqs)).toBe(true);
    expect(failoverMs).toBeLessThanOrEqual(3000 + 500); // the lease, plus process and scheduling slack
    expect((await health(b)).cluster.ownedDrones.sort()).toEqual(["alpha", "bravo"]);

    // B's pilot was connected to a live node: the lease carried over.
    const up = await pilot.request("command", { drone: "alpha", name: "takeoff" }, 9);
    expect(up.type).toBe("ack");
  }, 30_000);

  test("resume with since on another node: exactly the missed frames, then live", async () => {
    const { a, b } = await twoNodes();
    const first = await viewer(a);
    const onB = await viewer(b);
    await first.waitTelemetry((frames) => frames.length >= 10, 5000);
    const lastSeen = seqsOf(first).at(-1)!;
    first.close();
    // Frames published while away, until node B holds at least three of them.
    await onB.waitTelemetry(() => (seqsOf(onB).at(-1) ?? -1) >= lastSeen + 3, 3000);

    const second = await viewer(b, "/drone?drone=bravo");
    const ack = await second.request("subscribe", { drone: "alpha", since: lastSeen });
    expect(ack.data).toMatchObject({ drone: "alpha", subscribed: true, lost: 0 });
    expect(ack.data.replayed).toBeGreaterThanOrEqual(3);
    await second.waitTelemetry((frames) => seqsOf(second).length >= ack.data.replayed + 5, 3000);
    const seqs = seqsOf(second);
    expect(seqs[0]).toBe(lastSeen + 1);
    expect(consecutive(seqs)).toBe(true);
  }, 20_000);

  test("a node that starts late can replay frames published before it started", async () => {
    const a = await startNode("node-a");
    const early = await viewer(a);
    await early.waitTelemetry((frames) => frames.length >= 15, 5000);
    const since = seqsOf(early)[2]!;
    const b = await startNode("node-b");
    await until("node-b's catch-up read of the frame lists", () => health(b), (h) => h.cluster?.redis === "up" && h.cluster.catchUps >= 1);
    const late = await viewer(b, "/drone?drone=bravo");
    const ack = await late.request("subscribe", { drone: "alpha", since });
    expect(ack.data.lost).toBe(0);
    await late.waitTelemetry(() => seqsOf(late).length >= ack.data.replayed + 3, 3000);
    expect(seqsOf(late)[0]).toBe(since + 1);
    expect(consecutive(seqsOf(late))).toBe(true);
  }, 20_000);

  test("Redis hangs: the node reports itself degraded, keeps flying and serving its own sockets, and recovers", async () => {
    // It keeps flying while its claim on the drones holds (past it, it is fenced: cluster-fencing.test.ts);
    // a longer lease than the default leaves room for noticing the hang, then flying 10 more frames.
    const { a } = await twoNodes(["--owner-lease-seconds", "6"]);
    const onA = await viewer(a);
    process.kill(redis.pid, "SIGSTOP");
    try {
      await until("node-a to notice", () => health(a), (h) => h.status === "degraded", 10_000);
      expect(await (await fetch(a.http("/metrics"))).text()).toMatch(/^skyport_redis_up 0$/m);
      const seen = seqsOf(onA).length;
      await onA.waitTelemetry(() => seqsOf(onA).length >= seen + 10, 3000);
      expect(consecutive(seqsOf(onA))).toBe(true);
    } finally {
      process.kill(redis.pid, "SIGCONT");
    }
    await until("node-a to recover", () => health(a), (h) => h.status === "ok", 10_000);
    const recovered = (await health(a)).cluster;
    expect(recovered.ownedDrones.sort()).toEqual(["alpha", "bravo"]);
    // The frame appends in flight when Redis hung were lost: counted, not swallowed.
    expect(recovered.writeFailures).toBeGreaterThan(0);
  }, 40_000);

  test("a Redis restart: both nodes go degraded, keep serving, then recover; telemetry continues without a reset", async () => {
    const { a, b } = await twoNodes();
    const onA = await viewer(a);
    const onB = await viewer(b);
    await onB.waitTelemetry((frames) => frames.length >= 5, 5000);

    await redis.restart();
    // While Redis is away (or right after), each node keeps its own sockets.
    await until("both nodes to recover", async () => [(await health(a)).status, (await health(b)).status], (s) => s[0] === "ok" && s[1] === "ok", 15_000);
    const reconnects = [(await health(a)).cluster.reconnects, (await health(b)).cluster.reconnects];
    expect(reconnects[0]).toBeGreaterThanOrEqual(1);
    expect(reconnects[1]).toBeGreaterThanOrEqual(1);

    const seenOnB = seqsOf(onB).length;
    await onB.waitTelemetry(() => seqsOf(onB).length >= seenOnB + 10, 8000);
    const seqs = seqsOf(onB);
    // Strictly increasing throughout (frames during the outage may be missing on B), never back to 0.
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
    expect(seqsOf(onA).every((seq, i, all) => i === 0 || seq === all[i - 1]! + 1)).toBe(true);
    // Each drone simulated by exactly one node again (a node that lost a drone to the other notices within a round).
    const owners = async () => [(await health(a)).cluster.ownedDrones, (await health(b)).cluster.ownedDrones].flat().sort();
    await until("each drone to have one owner", owners, (all) => JSON.stringify(all) === JSON.stringify(["alpha", "bravo"]), 5000);
  }, 40_000);

  test("Redis restarts empty and the non-owner reconnects first: it leaves the drone to its owner, and seq never goes back", async () => {
    // A longer lease than the default gives node A room to reconnect after it is resumed.
    const { a, b } = await twoNodes(["--owner-lease-seconds", "6"]);
    const onA = await viewer(a);
    const onB = await viewer(b);
    await onB.waitTelemetry((frames) => frames.length >= 5, 5000);

    // Redis hangs: both nodes go degraded. A keeps flying alpha; B hears nothing more of it.
    process.kill(redis.pid, "SIGSTOP");
    await until("both nodes to notice", async () => [(await health(a)).status, (await health(b)).status], (s) => s[0] === "degraded" && s[1] === "degraded", 10_000);
    const lastOnB = seqsOf(onB).at(-1)!;
    await onA.waitTelemetry(() => seqsOf(onA).at(-1)! >= lastOnB + 10, 3000);

    // A pauses, Redis comes back empty, and B reconnects first: every owner key is gone.
    a.proc.kill("SIGSTOP");
    try {
      const newest = seqsOf(onA).at(-1)!;
      await redis.restart();
      await until("node-b to reconnect", () => health(b), (h) => h.status === "ok", 10_000);
      a.proc.kill("SIGCONT");
      await until("node-a to reconnect", () => health(a), (h) => h.status === "ok", 10_000);
      const seenOnB = seqsOf(onB).length;
      await onB.waitTelemetry(() => seqsOf(onB).length >= seenOnB + 10, 8000);

      // B's viewer continues from the newest frame anyone published, not from the stale one B heard last.
      const afterOutage = seqsOf(onB).filter((seq) => seq > lastOnB);
      expect(afterOutage[0]).toBeGreaterThan(newest);
      expect(consecutive(seqsOf(onA))).toBe(true);
      // Node A, which kept simulating its drones, still does.
      expect((await health(a)).cluster.ownedDrones.sort()).toEqual(["alpha", "bravo"]);
      expect((await health(b)).cluster.ownedDrones).toEqual([]);
    } finally {
      a.proc.kill("SIGCONT");
    }
  }, 60_000);

  test("a pilot on node B keeps its lease across a Redis restart, even when the owner reconnects first", async () => {
    const { a, b } = await twoNodes(["--owner-lease-seconds", "6"]);
    const onA = await viewer(a);
    const pilot = await viewer(b);
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    const record = `${pilot.session}\tnode-b`;
    await until("the pilot record", () => redisCommand(["GET", "skyport:pilot:alpha"]), (stored) => stored === record);

    // B pauses across the restart: A reconnects first and finds neither B's heartbeat nor any record.
    b.proc.kill("SIGSTOP");
    try {
      await redis.restart();
      await until("node-a to re-take its drones", () => redisCommand(["GET", "skyport:owner:alpha"]), (owner) => owner === "node-a", 10_000);
      // The owner writes the pilot record again: a later takeover still knows who flies.
      await until("the pilot record to be restored", () => redisCommand(["GET", "skyport:pilot:alpha"]), (stored) => stored === record);
      b.proc.kill("SIGCONT");
      await until("node-b to reconnect", () => health(b), (h) => h.status === "ok", 10_000);
      await until("node-b's heartbeat", () => redisCommand(["EXISTS", "skyport:alive:node-b"]), (exists) => exists === 1);
    } finally {
      b.proc.kill("SIGCONT");
    }
    // A missing heartbeat right after Redis came back was not taken for a dead node: the pilot still flies.
    const up = await pilot.request("command", { drone: "alpha", name: "takeoff" }, 11);
    expect(up.type).toBe("ack");
    expect(onA.messages.some((m: any) => m.type === "lease" && m.data.pilot === null)).toBe(false);
    expect(onA.messages.some((m: any) => m.type === "event" && m.data.kind === "failsafe")).toBe(false);
  }, 60_000);
});
