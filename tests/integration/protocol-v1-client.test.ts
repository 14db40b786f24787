/**
 * Protocol version 2 only added fields: the version 1 SDK, bundled as it was
 * shipped before the bump (tests/fixtures/sdk-v1.js, built from commit
 * 32c221b's client/sdk), still connects, claims, flies, and gets every frame
 * in order and every done, against today's server on real sockets.
 */
import { afterEach, expect, test } from "bun:test";
// @ts-expect-error: a plain JavaScript bundle without types, on purpose: it is the old client as users have it.
import { SkyportClient } from "../fixtures/sdk-v1.js";
import { protocolVersion } from "../../protocol/index.ts";
import { startSimServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface V1Frame {
  drone: string;
  seq: number;
  state: string;
  position: { x: number; y: number; z: number };
  [field: string]: unknown;
}

test("a version 1 SDK flies and watches a version 2 server, ignoring the fields it does not know", async () => {
  expect(protocolVersion).toBe(2);
  const server = startSimServer();
  cleanups.push(() => server.stop());
  const sdk = new SkyportClient({ url: server.ws("/drone") });
  cleanups.push(() => sdk.close());
  const frames: V1Frame[] = [];
  const welcomes: Array<{ protocolVersion: number }> = [];
  sdk.on("welcome", (welcome: { protocolVersion: number }) => welcomes.push(welcome));
  sdk.on("telemetry", (frame: V1Frame) => frames.push(frame));
  sdk.connect();
  await waitUntil(() => welcomes.length === 1, 3000);
  expect(welcomes[0]!.protocolVersion).toBe(2);

  await sdk.claim("alpha");
  const takeoff = await sdk.command("alpha", "takeoff");
  server.advance(2.5);
  expect(await takeoff.done).toEqual({ drone: "alpha", command: "takeoff", status: "completed" });
  const forward = await sdk.command("alpha", "forward", [10]);
  server.advance(3);
  expect(await forward.done).toEqual({ drone: "alpha", command: "forward 10", status: "completed" });

  const latest = server.flight.latestSeq("alpha")!;
  await waitUntil(() => frames.some((frame) => frame.seq === latest), 3000, `the frame of seq ${latest}`);
  const seqs = frames.map((frame) => frame.seq);
  // Every frame, in order, no gap: the old client's gap detection and dedupe accept v2 frames.
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
  const last = frames.at(-1)!;
  expect(last.position.y).toBeCloseTo(10, 1);
  // The new fields are there for clients that know them; the old one passed them through untouched.
  expect(last).toMatchObject({ armed: true, mode: "GUIDED", gps: { fix: "3d", satellites: 10 }, link: { status: "up" } });
  expect(typeof last.lat).toBe("number");
});
