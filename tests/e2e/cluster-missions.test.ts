/**
 * Missions in a cluster (issue 15), with a real redis-server and real
 * server processes: a viewer on a node that does not fly the drone learns
 * its mission at once, as on the node that flies it; and when that node
 * dies mid-mission, the node that takes the drone over carries the mission
 * on, paused at the item it was flying with the items it reached, and the
 * pilot resumes it there to completion.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import { defaultSimulatedHome } from "../../src/core/vehicle/simulated.ts";
import { clusterSuite, health, until } from "../support/cluster.ts";

const cluster = clusterSuite({ beforeAll, afterAll, afterEach });

const waypoint = (x: number, y: number, altitude: number) => ({ type: "waypoint", ...pointFromHome(defaultSimulatedHome, x, y), altitude });
const route = [{ type: "takeoff", altitude: 5 }, waypoint(0, 12, 5), waypoint(12, 12, 5), waypoint(12, 0, 5), { type: "land" }];

describe("missions across nodes", () => {
  test("a late viewer on another node learns the mission at once; a takeover carries it on, paused, and the pilot finishes it", async () => {
    const { a, b } = await cluster.twoNodes();
    // The pilot is on node-b, which does not fly alpha: everything it sends is forwarded to node-a.
    const pilot = await cluster.viewer(b);
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    expect((await pilot.request("mission", { drone: "alpha", items: route }, "m")).type).toBe("ack");
    await pilot.done("m", 5000);
    expect((await pilot.request("mission_start", { drone: "alpha" }, "go")).type).toBe("ack");
    await pilot.take((m) => m.type === "mission_progress" && m.data.reached.length >= 1, 20_000);

    // A viewer that connects now, to the node that does not fly alpha, is told the mission and how far it is.
    const late = await cluster.viewer(b);
    expect((await late.take((m) => m.type === "mission", 2000)).data).toEqual({ drone: "alpha", items: route });
    expect((await late.take((m) => m.type === "mission_progress", 2000)).data).toMatchObject({ drone: "alpha", state: "running" });

    // Node-a dies flying the third item.
    const flying = await pilot.take((m) => m.type === "mission_progress" && m.data.current === 2, 20_000);
    expect(flying.data.reached).toEqual([0, 1]);
    a.proc.kill("SIGKILL");
    await a.exited;
    await until("node-b to take alpha over", () => health(b), (h) => h.cluster.ownedDrones.includes("alpha"), 10_000);

    // Node-b carries the mission on: the same items, paused at the item node-a was flying, with what it reached.
    const paused = await pilot.take((m) => m.type === "mission_progress" && m.data.state === "paused", 5000);
    expect(paused.data).toMatchObject({ drone: "alpha", current: 2, reached: [0, 1], reason: "carried over from node node-a: resume to fly on" });
    expect(pilot.messages.some((m: any) => m.type === "mission" && JSON.stringify(m.data.items) === JSON.stringify(route))).toBe(true);
    // The pilot, on a live node, kept the lease: it resumes, and the mission ends on the ground.
    expect((await pilot.request("mission_resume", { drone: "alpha" }, "r")).type).toBe("ack");
    const completed = await pilot.take((m) => m.type === "mission_progress" && m.data.state === "completed", 40_000);
    expect(completed.data).toMatchObject({ current: 5, reached: [0, 1, 2, 3, 4] });
    // The whole cluster's record of it is node-b's now: a viewer connecting after sees the finished mission.
    const after = await cluster.viewer(b);
    expect((await after.take((m) => m.type === "mission_progress", 2000)).data).toMatchObject({ state: "completed", reached: [0, 1, 2, 3, 4] });
  }, 90_000);
});
