/**
 * The fleet's side of missions: only the pilot changes or starts one, a
 * vehicle without missions says so, every accepted mission command ends in
 * exactly one `done`, and the mission and its progress go out as notices.
 * Time moves only when the test says.
 */
import { describe, expect, test } from "bun:test";
import { Fleet, type FleetNotice } from "../../../src/core/fleet/fleet.ts";
import { executeOp, type CommandOrigin } from "../../../src/core/fleet/ops.ts";
import { isScopeError, parseScope, type Identity } from "../../../src/core/identity/rights.ts";
import type { MissionItem } from "../../../src/core/mission/mission.ts";
import { SimulatedVehicle } from "../../../src/core/vehicle/simulated.ts";
import { ScriptedVehicle } from "../../support/scripted-vehicle.ts";

const origin = (session: string, requestId?: number): CommandOrigin => ({ session, label: "mission", form: "json", ...(requestId === undefined ? {} : { requestId }) });
const items: MissionItem[] = [{ type: "takeoff", altitude: 5 }, { type: "land" }];

function fleet() {
  return new Fleet<CommandOrigin>({ vehicles: [new SimulatedVehicle("alpha"), new ScriptedVehicle("scripted")], failsafeSeconds: 10 });
}

describe("missions in the fleet", () => {
  test("the pilot uploads: accepted, then its done and the mission for every viewer; others are refused not_pilot", () => {
    const f = fleet();
    expect(f.mission("alpha", { action: "upload", items }, origin("s1"), 0)).toMatchObject({ ok: false, refusal: { code: "not_pilot", message: "claim alpha before changing or starting its mission" } });
    f.claim("alpha", "pilot");
    f.takeNotices();
    expect(f.mission("alpha", { action: "upload", items }, origin("viewer"), 0)).toMatchObject({ ok: false, refusal: { code: "not_pilot" } });
    expect(f.mission("alpha", { action: "upload", items }, origin("pilot", 4), 0)).toEqual({ ok: true, items: 2 });
    const notices = f.takeNotices();
    expect(notices).toEqual([
      { kind: "mission", drone: "alpha", items },
      { kind: "done", origin: origin("pilot", 4), drone: "alpha", status: "completed" },
    ] satisfies FleetNotice<CommandOrigin>[]);
  });

  test("a vehicle that cannot fly missions answers not_supported", () => {
    const f = fleet();
    f.claim("scripted", "pilot");
    expect(f.mission("scripted", { action: "start" }, origin("pilot"), 0)).toEqual({ ok: false, refusal: { code: "not_supported", message: "scripted cannot fly missions", about: { vehicle: true } } });
  });

  test("progress notices while it runs, to completion", () => {
    const f = fleet();
    f.claim("alpha", "pilot");
    f.mission("alpha", { action: "upload", items }, origin("pilot"), 0);
    f.mission("alpha", { action: "start" }, origin("pilot"), 0);
    const states: string[] = [];
    for (let t = 0; t < 30; t += 0.1) {
      f.advance(0.1, t);
      for (const notice of f.takeNotices()) if (notice.kind === "mission_progress") states.push(notice.progress.state);
    }
    expect(states[0]).toBe("running");
    expect(states.at(-1)).toBe("completed");
  });

  test("a mission op needs the right to fly the vehicle", () => {
    const f = fleet();
    const rights = parseScope("view:*");
    if (isScopeError(rights)) throw new Error(rights.message);
    const viewerOnly: Identity = { user: "ann", rights, source: "jwt" };
    const outcome = executeOp(f, { kind: "mission", drone: "alpha", session: "s", identity: viewerOnly, command: { action: "start" }, label: "mission_start" }, { now: 0 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });
});
