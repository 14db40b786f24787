/**
 * The flight recorder across a `kill -9` of a real `server.ts`: the drone
 * comes back where it was, hovering with the failsafe running; its stream
 * keeps its epoch and seq goes on, so an SDK client resuming with `since`
 * gets no `stream_reset`; the flight and its committed commands survive,
 * the one in progress ends as failed.
 */
import { afterEach, expect, test } from "bun:test";
import { SkyportClient, type EventData, type TelemetryData } from "../../client/sdk/index.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { tempDataDir } from "../support/recorder.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

const processes: ServerProcess[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const node of processes.splice(0)) {
    node.proc.kill("SIGKILL");
    await node.exited;
  }
});

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

test("kill -9 and start again: the drone, its stream and its flight carry on", async () => {
  const dir = tempDataDir();
  cleanups.push(() => dir.remove());
  const flags = ["--no-record=false", "--data-dir", dir.path, "--drones", "alpha", "--telemetry-hz", "10", "--failsafe-seconds", "60"];
  const first = await spawnServer(flags);
  processes.push(first);

  const clock = new FakeClock();
  const sdk = new SkyportClient({ url: first.ws("/drone?drone=alpha"), backoff: { initialMs: 1000, maxMs: 1000, stableAfterMs: 60_000 }, random: () => 1, clock });
  cleanups.push(() => sdk.close());
  const frames: TelemetryData[] = [];
  const events: EventData[] = [];
  sdk.on("telemetry", (frame) => frames.push(frame));
  sdk.on("event", (event) => events.push(event));
  sdk.connect();

  const pilot = await DroneTestClient.connect(first.ws("/drone"));
  cleanups.push(() => pilot.close());
  expect((await pilot.request("claim", { drone: "alpha" }, "c")).type).toBe("ack");
  expect((await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t")).type).toBe("ack");
  await pilot.done("t", 10_000);
  expect((await pilot.request("command", { drone: "alpha", name: "forward", args: [300] }, "f")).type).toBe("ack");
  await until("alpha to fly 8 m out", () => (frames.at(-1)?.position.y ?? 0) > 8);
  // A second so the writer flushed the frames up to here (it flushes every 250 ms).
  await Bun.sleep(1000);
  const before = frames.at(-1)!;
  const lastSeen = before.seq;

  first.proc.kill("SIGKILL");
  await first.exited;
  await until("the client to notice", () => sdk.state === "reconnecting");
  const second = await spawnServer([...flags, "--addr", `127.0.0.1:${first.port}`]);
  processes.push(second);
  const delivered = frames.length;
  clock.advance(1000);
  await until("frames after the restart", () => frames.length >= delivered + 10);

  expect(events.filter((event) => event.kind === "stream_reset")).toEqual([]);
  const after = frames.slice(delivered);
  expect(after[0]!.seq).toBeGreaterThan(lastSeen - 1);
  expect(after.every((frame, i) => i === 0 || frame.seq === after[i - 1]!.seq + 1)).toBe(true);
  const now = after.at(-1)!;
  // Where it was last recorded (at most a flush behind what the client saw), hovering, failsafe on, no pilot.
  expect(Math.abs(now.position.y - before.position.y)).toBeLessThan(3);
  expect(now.position.z).toBeCloseTo(before.position.z, 0);
  expect(now.state).toBe("hovering");
  expect(now.flags.failsafe).toBe(true);
  expect(now.pilot).toBeNull();
  expect(now.battery).toBeCloseTo(before.battery, 0);

  const { flights } = await (await fetch(second.http("/api/flights"))).json();
  expect(flights).toHaveLength(1);
  expect(flights[0]).toMatchObject({ drone: "alpha", open: true, pilot: pilot.session });
  const { commands, events: recorded } = await (await fetch(second.http(`/api/flights/${flights[0].id}`))).json();
  expect(commands.map((c: any) => [c.requestId, c.outcome, c.outcomeReason])).toEqual([
    ["t", "completed", null],
    ["f", "failed", "the server stopped before the command ended"],
  ]);
  expect(recorded.map((e: any) => e.kind)).toContain("failsafe");
}, 40_000);
