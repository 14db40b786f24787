/**
 * Issue 19 #3 on the flight service's injected clock: a pilot's silence is
 * counted in the once-a-second sweeps of the fake clock that `advance` steps,
 * while the event loop turns between them (as it does between real seconds).
 * A half-open pilot (reads nothing, answers no ping) loses its lease after
 * the pilot timeout; a live pilot that sends nothing but pongs keeps its own.
 * A synchronous run of many simulated seconds (no turn of the event loop, so
 * nothing could be heard) never counts as silence.
 */
import { afterEach, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { encodeFrame, opcodes } from "../support/frames.ts";
import { rawConnect, type RawConnection } from "../support/raw.ts";
import { startSimServer } from "../support/server.ts";

const pilotTimeoutSeconds = 3;
let server: ReturnType<typeof startSimServer> | null = null;
const closers: Array<{ close(): void }> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c.close();
  await server?.stop();
  server = null;
});

async function halfOpenPilot(s: NonNullable<typeof server>, drone: string, observer: DroneTestClient): Promise<RawConnection> {
  const raw = await rawConnect(s.port, { path: `/drone?drone=${drone}` });
  closers.push(raw);
  const welcome = JSON.parse(new TextDecoder().decode((await raw.nextFrame(3000)).payload));
  raw.send(encodeFrame({ opcode: opcodes.text, payload: JSON.stringify({ type: "claim", id: 1, data: { drone } }) }));
  await observer.take((m) => m?.type === "lease" && m.data.drone === drone && m.data.pilot === welcome.data.session);
  raw.socket.pause();
  return raw;
}

test("on the fake clock: a half-open pilot loses its lease after the pilot timeout; a live silent pilot keeps its lease", async () => {
  const s = (server = startSimServer({ drones: ["alpha", "bravo"], pilotTimeoutSeconds, telemetryHz: 10 }));
  const observer = await DroneTestClient.connect(s.ws("/drone?drone=*"));
  closers.push(observer);
  const live = await DroneTestClient.connect(s.ws("/drone?drone=bravo"));
  closers.push(live);
  expect((await live.request("claim", { drone: "bravo" })).type).toBe("ack");
  await halfOpenPilot(s, "alpha", observer);

  let droppedAfter = -1;
  for (let second = 1; second <= pilotTimeoutSeconds + 4 && droppedAfter === -1; second++) {
    const batches = observer.batches.length;
    s.advance(1);
    // Let the event loop turn: wait for this second's telemetry to reach the observer.
    await observer.waitBatches((b) => b.length >= batches + 10);
    if (s.flight.fleet.pilotOf("alpha") === null) droppedAfter = second;
  }
  expect(droppedAfter).toBeGreaterThan(pilotTimeoutSeconds);
  expect(droppedAfter).toBeLessThanOrEqual(pilotTimeoutSeconds + 2);
  const lease = await observer.take((m) => m?.type === "lease" && m.data.drone === "alpha" && m.data.pilot === null);
  expect(lease.data.reason).toBe(`pilot silent for ${pilotTimeoutSeconds} s (no message or pong)`);
  expect(s.flight.fleet.pilotOf("bravo")).toBe(live.session);
});

test("simulated seconds run without a turn of the event loop are not silence", async () => {
  const s = (server = startSimServer({ pilotTimeoutSeconds }));
  const observer = await DroneTestClient.connect(s.ws("/drone"));
  closers.push(observer);
  await halfOpenPilot(s, "alpha", observer);
  s.advance(pilotTimeoutSeconds * 4);
  expect(s.flight.fleet.pilotOf("alpha")).not.toBeNull();
});
