/** The health document's shape and the readiness rule (src/edge/health.ts), without a server. */
import { describe, expect, test } from "bun:test";
import { healthReport, readiness, type HealthFacts } from "../../src/edge/health.ts";
import type { ClusterStatus } from "../../src/runtime/cluster/broker.ts";

const facts: HealthFacts = {
  draining: false,
  uptimeSeconds: 12,
  connections: { echo: 1, drone: 2, controller: 0, total: 3 },
  vehicles: [
    { id: "alpha", linkUp: true },
    { id: "copter", linkUp: true },
  ],
  cluster: null,
  mavlink: [{ id: "copter", url: "tcp:127.0.0.1:5760", link: "up", gcsFailsafe: "enabled", fence: "off", warnings: [] }],
  version: "0.1.0",
  pid: 4242,
};

const cluster: ClusterStatus = {
  node: "n1",
  redis: "up",
  ownedDrones: ["alpha"],
  reconnects: 0,
  lastError: null,
  forwardedOps: 0,
  forwardFailures: 0,
  ticksPublished: 0,
  ticksReceived: 0,
  catchUps: 1,
  writeFailures: 0,
  busVersion: 2,
  incompatiblePeers: [],
};

describe("healthReport", () => {
  test("has every key: the fleet's summary, each MAVLink vehicle's health, cluster null when alone", () => {
    expect(healthReport(facts)).toEqual({
      status: "ok",
      ready: true,
      version: "0.1.0",
      pid: 4242,
      uptimeSeconds: 12,
      connections: { echo: 1, drone: 2, controller: 0, total: 3 },
      fleet: { total: 2, linkUp: 2, linkDown: [] },
      vehicles: [{ id: "copter", url: "tcp:127.0.0.1:5760", link: "up", gcsFailsafe: "enabled", fence: "off", warnings: [] }],
      cluster: null,
    });
  });

  test("the same keys whatever the state: draining, degraded, a link down", () => {
    const keys = Object.keys(healthReport(facts)).sort();
    const draining = healthReport({ ...facts, draining: true });
    const degraded = healthReport({ ...facts, cluster: { ...cluster, redis: "down" } });
    const linkDown = healthReport({ ...facts, vehicles: [{ id: "alpha", linkUp: true }, { id: "copter", linkUp: false }] });
    for (const report of [draining, degraded, linkDown]) expect(Object.keys(report).sort()).toEqual(keys);
    expect(draining).toMatchObject({ status: "draining", ready: false });
    expect(degraded).toMatchObject({ status: "degraded", ready: true, cluster: { redis: "down" } });
    expect(linkDown).toMatchObject({ status: "ok", ready: false, fleet: { total: 2, linkUp: 1, linkDown: ["copter"] } });
    expect(healthReport({ ...facts, mavlink: [] }).vehicles).toEqual([]);
  });

  test("degraded, and not ready, while a node runs that this one cannot share the cluster with", () => {
    const peer = { node: "n0", reason: "node n0 speaks cluster protocol 1, older than the oldest this node works with (2): upgrade node n0" };
    const report = healthReport({ ...facts, cluster: { ...cluster, incompatiblePeers: [peer] } });
    expect(report).toMatchObject({ status: "degraded", ready: false, cluster: { incompatiblePeers: [peer] } });
    expect(readiness({ ...facts, cluster: { ...cluster, incompatiblePeers: [peer] } }).reasons).toEqual([`cluster: ${peer.reason}`]);
  });

  test("draining wins over degraded", () => {
    expect(healthReport({ ...facts, draining: true, cluster: { ...cluster, redis: "down" } }).status).toBe("draining");
  });
});

describe("readiness", () => {
  test("ready when not draining and every vehicle is heard", () => {
    expect(readiness(facts)).toEqual({ ready: true, reasons: [] });
  });

  test("not ready while draining or a vehicle's link is down, with one reason each", () => {
    expect(readiness({ draining: true, vehicles: [{ id: "alpha", linkUp: true }, { id: "copter", linkUp: false }] })).toEqual({
      ready: false,
      reasons: ["draining", "vehicle copter: link down"],
    });
  });

  test("a server with no vehicle at all is ready", () => {
    expect(readiness({ draining: false, vehicles: [] })).toEqual({ ready: true, reasons: [] });
  });
});
