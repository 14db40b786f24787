/**
 * Test harness for a cluster of real `server.ts` processes on one real
 * redis-server: starting nodes, reading their health, raw Redis commands,
 * viewers, and polling observable state with a bounded wait. Owns the
 * processes and clients it started (`cleanup` kills and closes them, then
 * empties Redis); what a test asserts is the test's.
 */
import { DroneTestClient } from "./drone-client.ts";
import { startRedis, type RedisServer } from "./redis.ts";
import { spawnServer, type ServerProcess } from "./server.ts";

/** Pause between two probes of a polled condition, milliseconds. */
const pollMs = 50;

/** The hooks of `bun:test` a suite registers with. */
interface SuiteHooks {
  beforeAll(fn: () => unknown): void;
  afterAll(fn: () => unknown): void;
  afterEach(fn: () => unknown): void;
}

/**
 * The setup every cluster test file shares: one real redis-server for the
 * file, and a TestCluster on it whose nodes and clients are cleaned up (and
 * Redis emptied) after each test. Its `redis` exists from `beforeAll` on.
 */
export function clusterSuite(hooks: SuiteHooks): TestCluster {
  let redis: RedisServer | null = null;
  const cluster = new TestCluster(() => {
    if (redis === null) throw new Error("the cluster suite's redis-server is not started yet: use it inside a test");
    return redis;
  });
  hooks.beforeAll(async () => {
    redis = await startRedis();
  });
  hooks.afterAll(async () => {
    await redis?.stop();
  });
  hooks.afterEach(() => cluster.cleanup());
  return cluster;
}

export class TestCluster {
  readonly nodes: ServerProcess[] = [];
  readonly clients: DroneTestClient[] = [];

  constructor(private readonly server: () => RedisServer) {}

  /** The redis-server the nodes share. */
  get redis(): RedisServer {
    return this.server();
  }

  /** Starts a node; `drones` as --drones, `extra` more flags. */
  async startNode(name: string, drones = "alpha,bravo", extra: string[] = []): Promise<ServerProcess> {
    const node = await spawnServer(["--redis", this.redis.url, "--node-id", name, "--drones", drones, "--telemetry-hz", "10", ...extra]);
    this.nodes.push(node);
    return node;
  }

  /** Node A starts first and simulates every drone; node B joins and simulates none. */
  async twoNodes(extra: string[] = []): Promise<{ a: ServerProcess; b: ServerProcess }> {
    const a = await this.startNode("node-a", undefined, extra);
    await until("node-a to own both drones", () => health(a), (h) => h.cluster?.ownedDrones?.length === 2);
    const b = await this.startNode("node-b", undefined, extra);
    await until("node-b to connect to redis", () => health(b), (h) => h.cluster?.redis === "up" && h.cluster.ownedDrones.length === 0);
    return { a, b };
  }

  async viewer(node: ServerProcess, path = "/drone?drone=alpha"): Promise<DroneTestClient> {
    const client = await DroneTestClient.connect(node.ws(path));
    this.clients.push(client);
    return client;
  }

  /** One Redis command on a fresh connection. */
  async redisCommand(args: string[]): Promise<unknown> {
    const { RedisClient } = await import("bun");
    const client = new RedisClient(this.redis.url, { autoReconnect: false });
    try {
      await client.connect();
      return await client.send(args[0]!, args.slice(1));
    } finally {
      client.close();
    }
  }

  /** Closes the clients, kills the nodes (resumed first if paused) and empties Redis. */
  async cleanup(): Promise<void> {
    for (const client of this.clients.splice(0)) client.close();
    for (const node of this.nodes.splice(0)) {
      node.proc.kill("SIGCONT");
      node.proc.kill("SIGKILL");
      await node.exited;
    }
    await this.redisCommand(["FLUSHALL"]);
  }
}

export async function health(node: ServerProcess): Promise<any> {
  return (await fetch(node.http("/healthz"))).json();
}

/** Polls until `condition` holds, or fails naming what was awaited. */
export async function until<T>(what: string, probe: () => Promise<T>, condition: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!condition(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(last)}`);
    await Bun.sleep(pollMs);
    last = await probe();
  }
  return last;
}

export const seqsOf = (client: DroneTestClient, drone = "alpha") => client.telemetry.filter((f) => f.drone === drone).map((f) => f.seq as number);
export const increasing = (seqs: number[]) => seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!);
