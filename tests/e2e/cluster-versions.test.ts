/**
 * Mixed versions in one cluster (issue 19, left over): every node announces
 * the cluster protocol it speaks in its alive key, and a node beside one it
 * cannot work with takes no drone, says why in /healthz, /readyz, /metrics
 * and its log, and joins once that node is gone. Real redis-server, real
 * server processes; the incompatible node is its alive key as such a node
 * writes it (no other version of skyport runs here).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { clusterSuite, health, until } from "../support/cluster.ts";

const cluster = clusterSuite({ beforeAll, afterAll, afterEach });

/** Announces node-z, alive for a minute, speaking `value` (VERSION:OLDEST). */
const announceNodeZ = (value: string) => cluster.redisCommand(["SET", "skyport:alive:node-z", value, "PX", "60000"]);

/** Samples `probe` every 100 ms for `windowMs`, failing as soon as `holds` does not: for what must not happen. */
async function stays<T>(what: string, probe: () => Promise<T>, holds: (value: T) => boolean, windowMs: number): Promise<void> {
  const end = Date.now() + windowMs;
  while (Date.now() < end) {
    const value = await probe();
    if (!holds(value)) throw new Error(`${what}: no longer true (${JSON.stringify(value)})`);
    await Bun.sleep(100);
  }
}

describe("cluster protocol versions", () => {
  test("each node announces its version in its alive key; nodes of one version are ok", async () => {
    const { a, b } = await cluster.twoNodes();
    expect(await cluster.redisCommand(["GET", "skyport:alive:node-a"])).toBe("2:1");
    expect(await cluster.redisCommand(["GET", "skyport:alive:node-b"])).toBe("2:1");
    for (const node of [a, b]) expect((await health(node)).cluster).toMatchObject({ busVersion: 2, incompatiblePeers: [] });
    // A node from before announcements (it writes a bare 1) shares this code's bus: compatible.
    await announceNodeZ("1");
    await stays("node-a stays ok beside a version-1 node", () => health(a), (h) => h.status === "ok", 6000);
  }, 30_000);

  test("a node started beside one that needs a newer protocol takes no drone, says why, and joins once it is gone", async () => {
    await announceNodeZ("9:9");
    const b = await cluster.startNode("node-b");
    const report = await until("node-b to see node-z", () => health(b), (h) => h.cluster?.redis === "up" && h.cluster.incompatiblePeers.length === 1);
    const reason = "node node-z speaks cluster protocol 9 and works only with 9 or newer; this node speaks 2: upgrade this node";
    expect(report).toMatchObject({ status: "degraded", ready: false, cluster: { incompatiblePeers: [{ node: "node-z", reason }], ownedDrones: [] } });
    const ready = await fetch(b.http("/readyz"));
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain(`cluster: ${reason}`);
    expect(await (await fetch(b.http("/metrics"))).text()).toContain("skyport_cluster_incompatible_peers 1\n");
    expect(b.stderr.some((line) => line.includes("cluster_peer_incompatible") && line.includes("node-z"))).toBe(true);
    // Nobody flies the drones, yet node-b takes none of them: it does not join a cluster it cannot work with.
    await stays("the drones stay unowned", () => cluster.redisCommand(["GET", "skyport:owner:alpha"]), (owner) => owner === null, 2000);

    await cluster.redisCommand(["DEL", "skyport:alive:node-z"]);
    await until("node-b to take the drones", () => health(b), (h) => h.status === "ok" && h.cluster.ownedDrones.length === 2, 10_000);
    expect((await health(b)).ready).toBe(true);
  }, 30_000);

  test("a running node notices a node it cannot read, keeps flying what it flies, and recovers when it leaves", async () => {
    const a = await cluster.startNode("node-a");
    await until("node-a to own both drones", () => health(a), (h) => h.cluster?.ownedDrones?.length === 2);
    await announceNodeZ("banana");
    const report = await until("node-a to see node-z", () => health(a), (h) => h.cluster.incompatiblePeers.length === 1, 10_000);
    expect(report.status).toBe("degraded");
    expect(report.cluster.incompatiblePeers[0].reason).toContain("node node-z announces a cluster protocol this node cannot read");
    expect(report.cluster.ownedDrones.sort()).toEqual(["alpha", "bravo"]);
    await cluster.redisCommand(["DEL", "skyport:alive:node-z"]);
    await until("node-a to be ok again", () => health(a), (h) => h.status === "ok", 10_000);
  }, 30_000);
});
