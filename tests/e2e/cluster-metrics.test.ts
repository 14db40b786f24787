/**
 * /metrics of a clustered node, with a real redis-server: every cluster
 * family is exported with its real Prometheus type (the `*_total` ones were
 * once exported as gauges), and /healthz carries the same status.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { startTestServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

let redis: RedisServer;
let server: ReturnType<typeof startTestServer>;
beforeAll(async () => {
  redis = await startRedis();
  server = startTestServer({ redisUrl: redis.url, nodeId: "metrics-node" });
});
afterAll(async () => {
  await server?.stop();
  await redis?.stop();
});

test("cluster counters are counters and cluster gauges are gauges", async () => {
  await waitUntil(() => server.cluster!.status().redis === "up", 10_000, "the node connected to Redis");
  const response = await fetch(server.http("/metrics"));
  const text = await response.text();
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1]!, match[2]!]));
  expect(text).toContain("# TYPE skyport_redis_reconnects_total counter\n");
  expect(types.get("skyport_redis_up")).toBe("gauge");
  expect(types.get("skyport_drones_owned")).toBe("gauge");
  for (const name of ["skyport_ops_forwarded_total", "skyport_ops_forward_failures_total", "skyport_cluster_ticks_published_total", "skyport_cluster_ticks_received_total", "skyport_redis_write_failures_total"]) {
    expect(`${name} ${types.get(name)}`).toBe(`${name} counter`);
  }
  // Every family of the page follows the rule: a counter ends in _total, and every _total is a counter.
  for (const [name, type] of types) expect(`${name} ${type === "counter"}`).toBe(`${name} ${name.endsWith("_total")}`);
  expect(text).toContain("skyport_redis_up 1\n");

  const health = await (await fetch(server.http("/healthz"))).json();
  expect(health).toMatchObject({ status: "ok", cluster: { node: "metrics-node", redis: "up" } });
}, 20_000);
