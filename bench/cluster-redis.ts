/**
 * What the scale-out benchmark asks Redis directly, through Bun's built-in
 * `RedisClient`: whether every drone has an owner and every node listens on
 * the bus (so a run starts only once telemetry can flow everywhere), and a
 * clean slate between runs.
 *
 * Reads the key and channel names docs/scaling.md documents
 * (`skyport:owner:<drone>`, `skyport:bus`); changes nothing but FLUSHALL.
 */
import { RedisClient } from "bun";

/** How often the cluster's readiness is polled. */
const pollMilliseconds = 50;

/** Every drone's owner (node id, or null while nobody owns it) and how many nodes subscribe to the bus. */
export interface ClusterView {
  owners: Array<string | null>;
  busSubscribers: number;
}

async function withClient<T>(url: string, body: (client: RedisClient) => Promise<T>): Promise<T> {
  const client = new RedisClient(url, { autoReconnect: false });
  try {
    await client.connect();
    return await body(client);
  } finally {
    client.close();
  }
}

/** One look at the cluster: owners of `drones` and subscribers of `skyport:bus`. */
export function viewCluster(url: string, drones: readonly string[]): Promise<ClusterView> {
  return withClient(url, async (client) => {
    const owners = (await client.send("MGET", drones.map((d) => `skyport:owner:${d}`))) as Array<string | null>;
    const numsub = (await client.send("PUBSUB", ["NUMSUB", "skyport:bus"])) as Array<string | number>;
    return { owners, busSubscribers: Number(numsub[1] ?? 0) };
  });
}

/**
 * Resolves once every drone has an owner and `nodes` processes subscribe to
 * the bus, with the owners; throws after `timeoutMilliseconds` saying what
 * was still missing.
 */
export async function waitForCluster(url: string, drones: readonly string[], nodes: number, timeoutMilliseconds: number): Promise<ClusterView> {
  const deadline = performance.now() + timeoutMilliseconds;
  for (;;) {
    const view = await viewCluster(url, drones);
    if (view.owners.every((owner) => owner !== null) && view.busSubscribers >= nodes) return view;
    if (performance.now() > deadline) {
      const unowned = view.owners.filter((owner) => owner === null).length;
      throw new Error(`cluster not ready within ${timeoutMilliseconds} ms: ${unowned} of ${drones.length} drones without an owner, ${view.busSubscribers} of ${nodes} nodes on skyport:bus`);
    }
    await Bun.sleep(pollMilliseconds);
  }
}

/** Empties Redis, so that the next cluster starts with no owners, frames or leases left by the previous one. */
export function flushRedis(url: string): Promise<void> {
  return withClient(url, async (client) => {
    await client.send("FLUSHALL", []);
  });
}
