/** Tests for bench/fairness.ts: which rounds a ratio to bare Bun is judged on, and why the others are not. */
import { expect, test } from "bun:test";
import { unfairReason, type PairedRun } from "./fairness.ts";

const run = (server: string, serverCoreShare: number, loadgenCoreShare: number, contended = false): PairedRun => ({
  server,
  sample: { serverCoreShare, loadgenCoreShare, otherLoadServerCore: contended ? 0.35 : 0.02, otherLoadLoadCore: 0.01 },
  contended,
});

test("both servers saturated: judged, however busy the load generator", () => {
  expect(unfairReason(run("skyport", 0.99, 0.99), run("bun", 0.95, 0.99))).toBeNull();
});

test("the load generator with core to spare: judged, however idle the servers", () => {
  expect(unfairReason(run("skyport", 0.65, 0.78), run("bun", 0.57, 0.62))).toBeNull();
});

test("the load generator saturated while a server was not: excluded, naming both", () => {
  // telemetry-max in the 01:10 baseline: skyport at 88% of its core, the load generator at 99%.
  const reason = unfairReason(run("skyport", 0.88, 0.99), run("bun", 0.99, 0.99));
  expect(reason).toBe("load generator bound (loadgen 99% with skyport, 99% with bun; skyport 88% of its core)");
  // The reference's side counts the same way.
  expect(unfairReason(run("skyport", 0.97, 0.5), run("bun", 0.7, 0.95))).toBe("load generator bound (loadgen 95% with bun; bun 70% of its core)");
});

test("a disturbed run is excluded whatever its shares, with the other processes' share", () => {
  expect(unfairReason(run("skyport", 0.99, 0.5, true), run("bun", 0.99, 0.5))).toBe("disturbed (skyport: others 35%)");
});

test("samples without core shares (memory) are judged unless disturbed", () => {
  expect(unfairReason({ server: "skyport", sample: { rssBytesPerConnection: 1900 } }, { server: "bun", sample: { rssBytesPerConnection: 1600 } })).toBeNull();
});
