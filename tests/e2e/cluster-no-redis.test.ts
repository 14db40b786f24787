/**
 * A node started with `--redis` while Redis is down: it serves, says
 * `degraded`, and refuses to fly with words that match what it knows (it has
 * never reached Redis, so it cannot know who flies the drone), not a guess
 * that another node does. Real process, a Redis port nobody listens on.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

let node: ServerProcess;
let deadRedisPort: number;
beforeAll(async () => {
  // A port that was free a moment ago: nothing answers there.
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  deadRedisPort = probe.port;
  probe.stop(true);
  node = await spawnServer(["--redis", `redis://127.0.0.1:${deadRedisPort}`, "--node-id", "lonely"]);
});
afterAll(async () => {
  node?.proc.kill("SIGKILL");
  await node?.exited;
});

test("degraded, and a claim is refused saying Redis was never reached", async () => {
  const health = await (await fetch(node.http("/healthz"))).json();
  expect(health.status).toBe("degraded");
  const pilot = await DroneTestClient.connect(node.ws("/drone?drone=alpha"));
  const answer = await pilot.request("claim", { drone: "alpha" });
  expect(answer.type).toBe("error");
  expect(answer.data.code).toBe("drone_unavailable");
  expect(answer.data.message).toBe("this node has not reached Redis yet, so it does not know which node flies alpha: try again once Redis is back (this node's /healthz says degraded until then)");
  pilot.close();
}, 20_000);
