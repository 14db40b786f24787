/**
 * Issue 19, left from #3: a pilot connected to node B, flying a drone node A
 * flies, goes silent (a half-open socket: reads nothing, answers no ping).
 * Node B drops it for silence; node A, which holds the lease, must say the
 * same reason to its viewers (`pilot silent for N s`), not "pilot
 * disconnected". Real redis-server, real server processes.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { clusterSuite } from "../support/cluster.ts";
import { encodeFrame, opcodes } from "../support/frames.ts";
import { rawConnect } from "../support/raw.ts";

const pilotTimeoutSeconds = 2;

const cluster = clusterSuite({ beforeAll, afterAll, afterEach });

test("a silent pilot on another node loses the lease with the silence named, on the node that flies the drone", async () => {
  const { a, b } = await cluster.twoNodes(["--pilot-timeout-seconds", String(pilotTimeoutSeconds)]);
  const onA = await cluster.viewer(a);
  const raw = await rawConnect(b.port, { path: "/drone?drone=alpha" });
  try {
    expect(raw.status).toBe(101);
    const welcome = JSON.parse(new TextDecoder().decode((await raw.nextFrame(3000)).payload));
    raw.send(encodeFrame({ opcode: opcodes.text, payload: JSON.stringify({ type: "claim", id: 1, data: { drone: "alpha" } }) }));
    await onA.take((m) => m?.type === "lease" && m.data.pilot === welcome.data.session, 5000);
    raw.socket.pause();
    const lease = await onA.take((m) => m?.type === "lease" && m.data.drone === "alpha" && m.data.pilot === null, (pilotTimeoutSeconds + 6) * 1000);
    expect(lease.data.reason).toBe(`pilot silent for ${pilotTimeoutSeconds} s (no message or pong)`);
  } finally {
    raw.close();
  }
}, 40_000);
