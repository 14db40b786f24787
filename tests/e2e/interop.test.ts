/**
 * Clients from other stacks against a real `server.ts` process: the Go
 * gorilla client, Python's `websockets` and Node's `ws` (the peers
 * scripts/setup.sh installs), on `/echo` and on `/drone` (claim and a
 * command, JSON envelopes). The same clients over wss are tests/e2e/tls.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { acksById, droneConversation, interopClients } from "../support/interop.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

let server: ServerProcess;

beforeAll(async () => {
  server = await spawnServer(["--drones", "d0,d1,d2"]);
});

afterAll(async () => {
  server.proc.kill("SIGTERM");
  await server.exited;
});

describe.each(interopClients.map((client, index) => [client.name, client, index] as const))("%s over ws://", (_name, client, index) => {
  test("/echo returns every text message unchanged, in order", async () => {
    const messages = ["hello", "héllo wörld ✈ 🚁"];
    const result = await client.run(server.ws("/echo"), null, "🚁", messages);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.lines).toEqual(messages);
  }, 60_000);

  test("/drone: claims its drone and takes off, each answered by an ack", async () => {
    const drone = `d${index}`;
    const { messages, until } = droneConversation(drone);
    const result = await client.run(server.ws(`/drone?drone=${drone}`), null, until, messages);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.lines[0]!).type).toBe("welcome");
    const acks = acksById(result.lines);
    expect(acks.get("c")).toMatchObject({ drone });
    expect(acks.get("t")).toMatchObject({ drone, command: "takeoff" });
  }, 60_000);
});
