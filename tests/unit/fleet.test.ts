/** The fleet: pilot leases, the link-loss failsafe and completion routing, on a fake clock. */
import { describe, expect, test } from "bun:test";
import { Fleet, type FleetNotice } from "../../src/core/fleet/fleet.ts";
import { executeOp, rightsRefusal, type CommandOrigin, type DroneOp } from "../../src/core/fleet/ops.ts";
import { openIdentity, type Identity, type Rights } from "../../src/core/identity/rights.ts";
import { SimulatedVehicle } from "../../src/core/vehicle/simulated.ts";

const step = 0.1;

function origin(session: string, requestId?: number): CommandOrigin {
  return { session, label: "test", form: "json", ...(requestId === undefined ? {} : { requestId }) };
}

function simulated(...ids: string[]) {
  return ids.map((id) => new SimulatedVehicle(id));
}

/** A fleet plus a clock that only moves when the test says so. */
function harness(failsafeSeconds = 10) {
  const fleet = new Fleet<CommandOrigin>({ vehicles: simulated("alpha", "bravo"), failsafeSeconds });
  let now = 0;
  const notices: FleetNotice<CommandOrigin>[] = [];
  return {
    fleet,
    notices,
    get now() {
      return now;
    },
    run(seconds: number) {
      for (let t = 0; t < seconds - 1e-9; t += step) {
        now += step;
        fleet.advance(step, now);
        notices.push(...fleet.takeNotices());
      }
    },
    drain() {
      notices.push(...fleet.takeNotices());
      return notices;
    },
  };
}

function airborne(h: ReturnType<typeof harness>, session = "pilot") {
  h.fleet.claim("alpha", session);
  expect(h.fleet.command("alpha", { name: "takeoff" }, origin(session, 1), h.now).ok).toBe(true);
  h.run(1);
  expect(h.fleet.state("alpha").state).toBe("hovering");
}

describe("pilot lease", () => {
  test("one pilot per drone; others are refused with lease_taken", () => {
    const h = harness();
    expect(h.fleet.claim("alpha", "a")).toEqual({ ok: true, alreadyPilot: false });
    expect(h.fleet.claim("alpha", "a")).toEqual({ ok: true, alreadyPilot: true });
    const refused = h.fleet.claim("alpha", "b");
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.refusal.code).toBe("lease_taken");
    expect(h.fleet.claim("bravo", "b").ok).toBe(true);
    expect([h.fleet.pilotOf("alpha"), h.fleet.pilotOf("bravo")]).toEqual(["a", "b"]);
  });

  test("observers' commands are refused with not_pilot, also before anyone claims", () => {
    const h = harness();
    const unclaimed = h.fleet.command("alpha", { name: "takeoff" }, origin("a"), h.now);
    expect(!unclaimed.ok && unclaimed.refusal.code).toBe("not_pilot");
    h.fleet.claim("alpha", "a");
    const observer = h.fleet.command("alpha", { name: "takeoff" }, origin("b"), h.now);
    expect(!observer.ok && observer.refusal.code).toBe("not_pilot");
    expect(h.fleet.state("alpha").state).toBe("landed");
  });

  test("every change is a lease notice; release by a non-pilot is refused", () => {
    const h = harness();
    h.fleet.claim("alpha", "a");
    const notPilot = h.fleet.release("alpha", "b", h.now);
    expect(!notPilot.ok && notPilot.refusal.code).toBe("not_pilot");
    h.fleet.release("alpha", "a", h.now);
    h.fleet.claim("alpha", "b");
    h.fleet.disconnect("b", h.now);
    expect(h.drain().filter((n) => n.kind === "lease")).toEqual([
      { kind: "lease", drone: "alpha", pilot: "a", reason: "claimed" },
      { kind: "lease", drone: "alpha", pilot: null, reason: "released" },
      { kind: "lease", drone: "alpha", pilot: "b", reason: "claimed" },
      { kind: "lease", drone: "alpha", pilot: null, reason: "pilot disconnected" },
    ]);
  });
});

describe("take-over and the pilot's user (issue 14)", () => {
  test("a forced claim takes the lease from its pilot, naming both users; the failsafe clears", () => {
    const h = harness();
    airborne(h, "a");
    h.fleet.release("alpha", "a", h.now);
    h.fleet.claim("alpha", "a", h.now, { user: { user: "alice", name: "Alice" } });
    expect(h.fleet.pilotUserOf("alpha")).toEqual({ user: "alice", name: "Alice" });
    h.drain().splice(0);
    expect(h.fleet.claim("alpha", "c", h.now, { force: true, user: { user: "carol" } })).toEqual({ ok: true, alreadyPilot: false });
    expect(h.fleet.pilotOf("alpha")).toBe("c");
    expect(h.fleet.pilotUserOf("alpha")).toEqual({ user: "carol" });
    expect(h.drain().filter((n) => n.kind === "lease")).toEqual([
      { kind: "lease", drone: "alpha", pilot: "c", reason: "taken over by carol from Alice (alice)", pilotUser: { user: "carol" } },
    ]);
    const old = h.fleet.command("alpha", { name: "land" }, origin("a"), h.now);
    expect(!old.ok && old.refusal.code).toBe("not_pilot");
  });

  test("a forced claim takes a lease reserved for a lost pilot; a session without a user is named by its session", () => {
    const fleet = new Fleet<CommandOrigin>({ vehicles: simulated("alpha"), failsafeSeconds: 10, leaseGraceSeconds: 3 });
    fleet.claim("alpha", "a", 0, { resume: "r" });
    fleet.disconnect("a", 0);
    expect(fleet.claim("alpha", "b", 1).ok).toBe(false);
    fleet.takeNotices();
    expect(fleet.claim("alpha", "b", 1, { force: true }).ok).toBe(true);
    expect(fleet.takeNotices().filter((n) => n.kind === "lease")).toEqual([{ kind: "lease", drone: "alpha", pilot: "b", reason: "taken over by session b" }]);
    expect(fleet.pilotUserOf("alpha")).toBeNull();
  });

  test("a forced release frees anyone's lease; without force only the pilot's own", () => {
    const h = harness();
    h.fleet.claim("alpha", "a", h.now, { user: { user: "alice" } });
    expect(h.fleet.release("alpha", "c", h.now).ok).toBe(false);
    expect(h.fleet.release("alpha", "c", h.now, true)).toEqual({ ok: true });
    expect([h.fleet.pilotOf("alpha"), h.fleet.pilotUserOf("alpha")]).toEqual([null, null]);
    expect(h.drain().filter((n) => n.kind === "lease").at(-1)).toEqual({ kind: "lease", drone: "alpha", pilot: null, reason: "released by force by session c" });
    const nothing = h.fleet.release("alpha", "c", h.now, true);
    expect(!nothing.ok && nothing.refusal.code).toBe("not_pilot");
  });
});

describe("rights where the op runs (issue 14)", () => {
  const fleetOf = () => new Fleet<CommandOrigin>({ vehicles: simulated("alpha", "bravo"), failsafeSeconds: 10 });
  const identity = (scope: Rights): Identity => ({ user: "u", name: "U", rights: scope, source: "jwt" });
  const pilotOfAlpha = identity({ view: ["*"], fly: ["alpha"], admin: false });

  test("fly:<drone> to claim, release and command; admin to force", () => {
    const fleet = fleetOf();
    expect(executeOp(fleet, { kind: "claim", drone: "alpha", session: "s", identity: pilotOfAlpha }, { now: 0 })).toEqual({ ok: true, data: { drone: "alpha", role: "pilot", pilot: "s" } });
    expect(fleet.pilotUserOf("alpha")).toEqual({ user: "u", name: "U" });
    for (const op of [
      { kind: "claim", drone: "bravo", session: "s", identity: pilotOfAlpha },
      { kind: "release", drone: "bravo", session: "s", identity: pilotOfAlpha },
      { kind: "command", drone: "bravo", session: "s", identity: pilotOfAlpha, command: { name: "takeoff" }, label: "takeoff", form: "json" },
    ] as DroneOp[]) {
      expect(executeOp(fleet, op, { now: 0 })).toEqual({ ok: false, error: { code: "forbidden", message: "u may not fly bravo: the token's scope needs fly:bravo or fly:*", about: { vehicle: true } } });
    }
    expect(rightsRefusal({ kind: "claim", drone: "alpha", session: "t", identity: pilotOfAlpha, force: true })?.message).toBe("u may not claim alpha by force: the token's scope needs admin");
    // A command's completion names the user who sent it.
    executeOp(fleet, { kind: "command", drone: "alpha", session: "s", identity: pilotOfAlpha, command: { name: "takeoff" }, label: "takeoff", form: "json" }, { now: 0 });
    fleet.advance(5, 5);
    expect(fleet.takeNotices().find((notice) => notice.kind === "done")).toMatchObject({ status: "completed", origin: { session: "s", user: "u" } });
    const admin = identity({ view: [], fly: [], admin: true });
    expect(executeOp(fleet, { kind: "claim", drone: "alpha", session: "t", identity: admin, force: true }, { now: 0 })).toMatchObject({ ok: true, data: { pilot: "t" } });
  });

  test("open and shared identities have every right but name no user", () => {
    const fleet = fleetOf();
    expect(executeOp(fleet, { kind: "claim", drone: "bravo", session: "s", identity: openIdentity }, { now: 0 }).ok).toBe(true);
    expect(fleet.pilotUserOf("bravo")).toBeNull();
    expect(rightsRefusal({ kind: "claim", drone: "bravo", session: "s", identity: openIdentity, force: true })?.code).toBe("forbidden");
  });
});

describe("completions", () => {
  test("each accepted command ends in exactly one done for its origin", () => {
    const h = harness();
    h.fleet.claim("alpha", "a");
    h.fleet.command("alpha", { name: "takeoff" }, origin("a", 1), h.now);
    h.run(1);
    h.fleet.command("alpha", { name: "forward", distance: 10 }, origin("a", 2), h.now);
    h.run(0.5);
    h.fleet.command("alpha", { name: "land" }, origin("a", 3), h.now); // supersedes forward
    h.run(2);
    const dones = h.drain().filter((n) => n.kind === "done");
    expect(dones.map((n) => n.kind === "done" && [n.origin.requestId, n.status])).toEqual([
      [1, "completed"],
      [2, "failed"],
      [3, "completed"],
    ]);
    expect(dones[1]).toMatchObject({ reason: "superseded by land" });
  });

  test("a chained command runs after the first completes (takeoff, then up)", () => {
    const h = harness();
    h.fleet.claim("alpha", "a");
    h.fleet.command("alpha", { name: "takeoff" }, origin("a"), h.now, { name: "up", distance: 3 });
    h.run(3);
    expect(h.fleet.state("alpha").position.z).toBeCloseTo(5, 6);
    expect(h.drain().filter((n) => n.kind === "done" && n.status === "completed").length).toBe(2);
  });
});

describe("link-loss failsafe", () => {
  test("pilot lost while flying: hover at once, return home after failsafeSeconds, land", () => {
    const h = harness(10);
    airborne(h);
    h.fleet.command("alpha", { name: "forward", distance: 20 }, origin("pilot", 2), h.now);
    h.run(1);
    h.drain().length = 0;
    h.fleet.disconnect("pilot", h.now);
    const drone = h.fleet.state("alpha");
    expect(drone.state).toBe("hovering");
    expect(h.fleet.failsafeEngaged("alpha")).toBe(true);
    expect(h.drain().find((n) => n.kind === "event" && n.event === "failsafe")).toMatchObject({ details: { action: "hover" } });

    h.run(9.9);
    expect(h.fleet.state("alpha").state).toBe("hovering");
    h.run(0.2);
    expect(h.fleet.state("alpha").state).toBe("returning");
    expect(h.drain().filter((n) => n.kind === "event" && n.event === "failsafe").length).toBe(2);
    h.run(30);
    const landed = h.fleet.state("alpha");
    expect(landed.state).toBe("landed");
    expect(Math.hypot(landed.position.x, landed.position.y)).toBeLessThan(0.01);
    expect(h.fleet.failsafeEngaged("alpha")).toBe(false);
  });

  test("a new pilot within the window cancels the return and clears the flag", () => {
    const h = harness(10);
    airborne(h);
    h.fleet.disconnect("pilot", h.now);
    h.run(5);
    expect(h.fleet.claim("alpha", "rescuer").ok).toBe(true);
    expect(h.fleet.failsafeEngaged("alpha")).toBe(false);
    expect(h.drain().some((n) => n.kind === "event" && n.event === "pilot_regained")).toBe(true);
    h.run(10);
    expect(h.fleet.state("alpha").state).toBe("hovering");
  });

  test("release while flying engages the failsafe too; on the ground nothing happens", () => {
    const h = harness(2);
    airborne(h);
    h.fleet.command("alpha", { name: "forward", distance: 10 }, origin("pilot"), h.now);
    h.run(3);
    h.fleet.release("alpha", "pilot", h.now);
    expect(h.fleet.failsafeEngaged("alpha")).toBe(true);
    h.run(2.1);
    expect(h.fleet.state("alpha").state).toBe("returning");

    const ground = harness(2);
    ground.fleet.claim("alpha", "p");
    ground.fleet.disconnect("p", ground.now);
    expect(ground.drain().some((n) => n.kind === "event")).toBe(false);
    expect(ground.fleet.failsafeEngaged("alpha")).toBe(false);
  });

  test("pilot lost during takeoff: the takeoff completes, and at home the failsafe lands instead of climbing", () => {
    const h = harness(2);
    h.fleet.claim("alpha", "pilot");
    h.fleet.command("alpha", { name: "takeoff" }, origin("pilot", 1), h.now);
    h.run(0.2);
    h.fleet.disconnect("pilot", h.now);
    h.run(1);
    expect(h.fleet.state("alpha").state).toBe("hovering");
    expect(h.fleet.state("alpha").position.z).toBeCloseTo(2, 6);
    let highest = 0;
    for (let i = 0; i < 50; i++) {
      h.run(0.1);
      highest = Math.max(highest, h.fleet.state("alpha").position.z);
    }
    expect(h.fleet.state("alpha").state).toBe("landed");
    expect(highest).toBeLessThanOrEqual(2 + 1e-9);
    expect(h.drain().find((n) => n.kind === "event" && n.event === "failsafe" && n.details?.action !== "hover")).toMatchObject({
      details: { action: "land" },
    });
  });

  test("a drone already landing keeps landing", () => {
    const h = harness(10);
    airborne(h);
    h.fleet.command("alpha", { name: "land" }, origin("pilot"), h.now);
    h.run(0.2);
    h.fleet.disconnect("pilot", h.now);
    expect(h.fleet.state("alpha").state).toBe("landing");
    h.run(2);
    expect(h.fleet.state("alpha").state).toBe("landed");
  });
});

test("bad options are refused", () => {
  expect(() => new Fleet({ vehicles: [], failsafeSeconds: 1 })).toThrow(/at least one vehicle/);
  expect(() => new Fleet({ vehicles: simulated("a", "a"), failsafeSeconds: 1 })).toThrow(/unique/);
  expect(() => new Fleet({ vehicles: simulated("a"), failsafeSeconds: 0 })).toThrow(/'failsafeSeconds'/);
});

describe("ownership in a cluster", () => {
  test("advance steps only the drones this node simulates", () => {
    const h = harness();
    airborne(h);
    h.fleet.claim("bravo", "other");
    h.fleet.command("bravo", { name: "takeoff" }, origin("other"), h.now);
    const bravoBefore = structuredClone(h.fleet.state("bravo"));
    h.fleet.advance(1, h.now + 1, (droneId) => droneId === "alpha");
    expect(h.fleet.state("bravo")).toEqual(bravoBefore);
  });

  test("adopting a flying drone whose pilot is gone engages the failsafe: hover, then home", () => {
    const h = harness(2);
    airborne(h);
    const flying = { state: h.fleet.state("alpha"), failsafe: false };
    const fresh = harness(2);
    fresh.fleet.adopt("alpha", flying, null, fresh.now);
    expect(fresh.fleet.pilotOf("alpha")).toBeNull();
    expect(fresh.fleet.failsafeEngaged("alpha")).toBe(true);
    expect(fresh.drain().filter((n) => n.kind === "event").map((n) => (n as any).details.action)).toEqual(["hover"]);
    fresh.run(2.5);
    expect(fresh.fleet.state("alpha").state).toBe("landing"); // over home: lands in place
  });

  test("adopting with a live pilot keeps the lease: that pilot can fly on", () => {
    const h = harness();
    airborne(h);
    const fresh = harness();
    fresh.fleet.adopt("alpha", { state: h.fleet.state("alpha"), failsafe: false }, "pilot", 0);
    expect(fresh.fleet.pilotOf("alpha")).toBe("pilot");
    expect(fresh.fleet.command("alpha", { name: "up", distance: 2 }, origin("pilot", 5), fresh.now).ok).toBe(true);
    expect(fresh.drain()).toEqual([]);
  });

  test("relinquishing fails the commands still in progress, so their senders hear", () => {
    const h = harness();
    airborne(h);
    h.drain().length = 0;
    h.fleet.command("alpha", { name: "forward", distance: 50 }, origin("pilot", 9), h.now);
    h.fleet.relinquish("alpha", "simulation moved to node b");
    expect(h.fleet.pilotOf("alpha")).toBeNull();
    expect(h.drain()).toEqual([{ kind: "done", origin: origin("pilot", 9), drone: "alpha", status: "failed", reason: "simulation moved to node b" }]);
  });
});
