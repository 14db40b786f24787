/**
 * Issue 19 #15 against a real server process: a pilot whose link blips
 * keeps its drone. Its socket closes; an observer's claim in between is
 * refused (`lease_taken`, reserved, for how long); the pilot's new socket
 * reclaims with the resume token from its claim ack. Before the fix the
 * observer took the drone.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer(["--lease-grace-seconds", "5"]);
});
afterAll(async () => {
  server.proc.kill("SIGKILL");
  await server.exited;
});

test("a 0.5 s link blip: the observer is refused, the pilot's new socket reclaims with its resume token", async () => {
  const observer = await DroneTestClient.connect(server.ws("/drone"));
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  try {
    const claim = await pilot.request("claim", { drone: "alpha" });
    expect(claim.type).toBe("ack");
    const resume: string = claim.data.resume;
    pilot.close();
    const dropped = await observer.take((m) => m?.type === "lease" && m.data.pilot === null);
    expect(dropped.data.reservedSeconds).toBe(5);
    const taken = await observer.request("claim", { drone: "alpha" });
    expect(taken).toMatchObject({ type: "error", data: { code: "lease_taken" } });
    expect(taken.data.message).toContain("reserved for its pilot");
    const back = await DroneTestClient.connect(server.ws("/drone"));
    try {
      expect(await back.request("claim", { drone: "alpha", resume })).toMatchObject({ type: "ack", data: { role: "pilot", pilot: back.session } });
      expect((await observer.take((m) => m?.type === "lease" && m.data.pilot === back.session)).data.reason).toBe("reclaimed");
    } finally {
      back.close();
    }
  } finally {
    observer.close();
  }
}, 20_000);
