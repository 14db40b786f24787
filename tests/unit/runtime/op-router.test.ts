/** Op routing: here, forwarded, answered later by ticket; remote pilots' nodes. */
import { expect, test } from "bun:test";
import { Fleet } from "../../../src/core/fleet/fleet.ts";
import { openIdentity } from "../../../src/core/identity/rights.ts";
import type { CommandOrigin, DroneOp, OpResult } from "../../../src/core/fleet/ops.ts";
import { inProcessBroker, type Broker } from "../../../src/runtime/cluster/broker.ts";
import { OpRouter } from "../../../src/runtime/op-router.ts";
import { ScriptedVehicle } from "../../support/scripted-vehicle.ts";

function setup(broker: Broker = inProcessBroker) {
  const later = new ScriptedVehicle("later", { answer: "later" });
  const fleet = new Fleet<CommandOrigin>({ vehicles: [new ScriptedVehicle("now"), later], failsafeSeconds: 5 });
  return { fleet, later, router: new OpRouter(fleet, () => broker, () => 0) };
}

const command = (drone: string, session = "s"): DroneOp => ({ kind: "command", drone, session, identity: openIdentity, command: { name: "takeoff" }, label: "takeoff", form: "json", requestId: 1 });

test("an op on a vehicle flown here is answered before perform returns", () => {
  const { router } = setup();
  const answers: OpResult[] = [];
  router.perform({ kind: "claim", drone: "now", session: "s", identity: openIdentity }, (result) => answers.push(result), () => {});
  router.perform(command("now"), (result) => answers.push(result), () => {});
  expect(answers).toEqual([
    { ok: true, data: { drone: "now", role: "pilot", pilot: "s" } },
    { ok: true, data: { drone: "now", command: "takeoff", target: { x: 0, y: 0, z: 2, heading: 0, speedLimit: 5 } } },
  ]);
});

test("a vehicle that answers later: the answer reaches its sender through the fleet's answer notice", () => {
  const { fleet, later, router } = setup();
  const answers: OpResult[] = [];
  router.perform({ kind: "claim", drone: "later", session: "s", identity: openIdentity }, () => {}, () => {});
  router.perform(command("later"), (result) => answers.push(result), () => {});
  expect(answers).toEqual([]);
  later.acknowledge();
  fleet.advance(0.1, 0.1);
  for (const notice of fleet.takeNotices()) if (notice.kind === "answer") router.answered(notice.ticket, notice.answer);
  expect(answers).toEqual([{ ok: true, data: { drone: "later", command: "takeoff", target: { x: 0, y: 0, z: 2, heading: 0, speedLimit: 5 } } }]);
});

test("elsewhere: forwarded through the broker; the session is remembered so its close is announced", () => {
  const forwarded: DroneOp[] = [];
  const broker: Broker = { ...inProcessBroker, shared: true, owns: () => false, forward: (op, answer) => (forwarded.push(op), answer({ ok: false, error: { code: "drone_unavailable", message: "x" } })) };
  const { router } = setup(broker);
  let delivered = 0;
  const answers: OpResult[] = [];
  router.perform(command("now", "s9"), (result) => answers.push(result), () => delivered++);
  expect([forwarded.length, answers.length, delivered]).toEqual([1, 1, 1]);
  expect([router.closedHere("s9"), router.closedHere("s9")]).toEqual([true, false]);
});

test("ops forwarded here for a vehicle another node owns are refused; a remote claim records the pilot's node", () => {
  const { router } = setup();
  const replies: OpResult[] = [];
  router.performForNode({ kind: "claim", drone: "now", session: "far", identity: openIdentity }, "node-b", (result) => replies.push(result));
  expect(replies[0]!.ok).toBe(true);
  expect(router.remotePilots()).toEqual(new Map([["far", "node-b"]]));
  router.closedElsewhere("far");
  expect(router.pilotNode("far")).toBeUndefined();
});

test("a command accepted elsewhere ends in exactly one done: the owner's, or a failed one once its node no longer flies the drone (issue 19 #6)", () => {
  const owners = new Map([["now", "node-a"]]);
  const ack: OpResult = { ok: true, data: { drone: "now", command: "takeoff", target: { x: 0, y: 0, z: 2, heading: 0, speedLimit: 5 } } };
  const broker: Broker = { ...inProcessBroker, shared: true, owns: () => false, ownerOf: (drone) => owners.get(drone), forward: (_, answer) => answer(ack, "node-a") };
  const { router } = setup(broker);
  const done = (id: number, status = "completed") => JSON.stringify({ type: "done", id, data: { drone: "now", command: "takeoff", status } });

  // The owner's done is delivered once; a second one for the same command is not.
  router.perform(command("now", "s1"), () => {}, () => {});
  expect([router.remoteDone("s1", done(1)), router.remoteDone("s1", done(1))]).toEqual([true, false]);

  // The owner stops flying the drone: the command fails here, once, and a late done from the old owner is dropped.
  router.perform(command("now", "s1"), () => {}, () => {});
  expect(router.failOrphanedCommands((drone) => owners.get(drone))).toEqual([]);
  owners.set("now", "node-b");
  const failed = router.failOrphanedCommands((drone) => owners.get(drone));
  expect(failed.map((f) => [f.session, JSON.parse(f.text).id, JSON.parse(f.text).data.status])).toEqual([["s1", 1, "failed"]]);
  expect(JSON.parse(failed[0]!.text).data.reason).toContain("node-a");
  expect(router.failOrphanedCommands((drone) => owners.get(drone))).toEqual([]);
  expect(router.remoteDone("s1", done(1, "failed"))).toBe(false);

  // A session that closes forgets what it awaited; anything that is not a done is never delivered.
  router.perform(command("now", "s2"), () => {}, () => {});
  router.closedHere("s2");
  owners.set("now", "node-c");
  expect(router.failOrphanedCommands((drone) => owners.get(drone))).toEqual([]);
  expect(router.remoteDone("s2", "not json")).toBe(false);
});
