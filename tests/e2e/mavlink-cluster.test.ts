/**
 * A MAVLink vehicle in a cluster (issue 12, "Safety when something dies"):
 * two real `server.ts` nodes on one Redis, both given the same `--mavlink`
 * vehicle, and a fake autopilot on a TCP port that, like a telemetry router,
 * accepts several ground stations. Only the owner node holds the link; a node
 * paused past its claim sends nothing more to the aircraft (not even a
 * heartbeat) once it runs again, and closes its link; the new owner connects;
 * a killed owner's vehicle is taken over the same way.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { startAutopilotServer, type AutopilotServer } from "../support/autopilot-server.ts";
import { clusterSuite, health, until } from "../support/cluster.ts";
import type { ServerProcess } from "../support/server.ts";

let autopilot: AutopilotServer;
afterEach(() => autopilot?.stop());
const cluster = clusterSuite({ beforeAll, afterAll, afterEach });

const owns = async (node: ServerProcess) => ((await health(node)).cluster?.ownedDrones ?? []).includes("copter");

test("one node holds the link; a paused owner is fenced and lets go; the other connects; a killed owner is replaced", async () => {
  autopilot = startAutopilotServer({ streamMilliseconds: 200 });
  const flags = ["--mavlink", `copter=tcp:127.0.0.1:${autopilot.port}`];
  const a = await cluster.startNode("node-a", "alpha", flags);
  await until("node-a to own copter", () => owns(a), Boolean);
  const b = await cluster.startNode("node-b", "alpha", flags);
  await until("node-b to join", () => health(b), (h) => h.cluster?.redis === "up");
  const onB = await cluster.viewer(b, "/drone?drone=copter");
  await onB.waitTelemetry((frames) => frames.some((f) => f.link.status === "up"), 8000);
  // Only the owner connected to the aircraft.
  expect(autopilot.connections).toBe(1);
  expect(await owns(b)).toBe(false);
  const first = autopilot.open[0]!;

  // Node A freezes past its claim: B takes copter over and connects while A's socket is still open.
  a.proc.kill("SIGSTOP");
  await until("node-b to own copter", () => owns(b), Boolean, 10_000);
  await until("node-b's connection", async () => autopilot.open, (open) => open.some((n) => n !== first), 10_000);
  const second = autopilot.open.find((n) => n !== first)!;
  await onB.take((m) => m?.type === "event" && m.data.kind === "failover", 5000);

  // A runs again: whatever its timers wanted to send is fenced, and its link closes.
  const resumedAt = performance.now();
  a.proc.kill("SIGCONT");
  await until("node-a to close its link", async () => autopilot.open, (open) => !open.includes(first), 5000);
  const staleWrites = autopilot.received.filter((r) => r.connection === first && r.at >= resumedAt);
  expect(staleWrites.map((r) => r.packet.header.msgid)).toEqual([]);
  expect(await owns(a)).toBe(false);
  // B commands the aircraft: its heartbeats keep arriving on its connection alone.
  const since = performance.now();
  await until("node-b's heartbeats", async () => autopilot.received.filter((r) => r.connection === second && r.at > since).length, (n) => n >= 2, 5000);
  expect(autopilot.received.filter((r) => r.connection !== second && r.at > since)).toEqual([]);

  // B is killed: A takes copter back and connects again.
  const onA = await cluster.viewer(a, "/drone?drone=copter");
  b.proc.kill("SIGKILL");
  await until("node-a to own copter again", () => owns(a), Boolean, 10_000);
  await until("node-a's new connection", async () => autopilot.open, (open) => open.some((n) => n > second), 10_000);
  await onA.waitTelemetry((frames) => frames.at(-1)?.link.status === "up", 8000);
  const seqs = onA.telemetry.map((f) => f.seq);
  expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
}, 60_000);
