/**
 * The velocity command over a real /drone socket on the simulation's clock
 * (issue 16): acked with where the hold ends, flown at its rate, and
 * stopped by the server itself when no update follows within the 1 s hold
 * (the dead-man), its `done` completed.
 */
import { afterEach, expect, test } from "bun:test";
import { SkyportClient } from "../../client/sdk/index.ts";
import { startSimServer } from "../support/server.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("one velocity update flies for a second, then the server stops the drone by itself", async () => {
  const server = startSimServer();
  cleanups.push(() => server.stop());
  const sdk = new SkyportClient({ url: server.ws("/drone") });
  cleanups.push(() => sdk.close());
  await new Promise((resolve) => {
    sdk.on("welcome", resolve);
    sdk.connect();
  });
  await sdk.claim("alpha");
  const takeoff = await sdk.command("alpha", "takeoff");
  server.advance(2);
  await takeoff.done;
  const velocity = await sdk.command("alpha", "velocity", [2, 0, 0, 0]);
  expect(velocity.ack.target).toMatchObject({ x: 0, y: 2, z: 2, heading: 0 });
  server.advance(0.5);
  expect(server.flight.snapshot("alpha")).toMatchObject({ state: "moving", position: { y: 1 } });
  // No further update: within the hold the drone stops where it led, and hovers.
  server.advance(1);
  expect(await velocity.done).toMatchObject({ status: "completed" });
  expect(server.flight.snapshot("alpha")).toMatchObject({ state: "hovering", position: { x: 0, y: 2, z: 2 } });
});
