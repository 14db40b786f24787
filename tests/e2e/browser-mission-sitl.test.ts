/**
 * The done-when of issue 15 on the real autopilot: in the dashboard a pilot
 * plans a 5-waypoint route on the map for ArduCopter SITL (real time,
 * default parameters, behind a real `server.ts --mavlink`), uploads it
 * through the page, starts it once the autopilot is ready to arm, and a
 * second browser watching sees it progress to completed, every waypoint
 * greyed as reached. Screenshots in test-artifacts/.
 *
 * Skips with one line when `../shared/sitl` is absent (a clone elsewhere).
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { artifactPath } from "../support/browser.ts";
import { claim, dashboardSuite, openDashboard } from "../support/dashboard.ts";
import { fiveWaypoints, homePoint, listedItems, missionState, planByClicking, shownMissionState } from "../support/mission-page.ts";
import { sitlServerSuite } from "../support/sitl.ts";

const suite = sitlServerSuite({ beforeAll, afterAll });
const { visitor } = dashboardSuite({ beforeAll, afterAll, afterEach });
/** The autopilot reports where it is a few seconds after launch; the map is fitted around home then. */
const positionWithinMs = 60_000;
/** Arming is refused until EKF3 uses GPS: ≈41–44 s after launch, with margin for 2 shared cores. */
const readyWithinMs = 120_000;
/** Pause between attempts while the autopilot is not ready (home unknown, arming refused), ms. */
const retryMs = 2_000;
/** One start attempt: the steps acknowledged, then the takeoff reached or the mission aborted on the ground. */
const startAttemptMs = 90_000;
/** Takeoff to 10 m, five legs of ≈20 m at 5 m/s, the return and the landing: ≈80 s; with margin. */
const missionWithinMs = 180_000;

test.skipIf(suite.missing !== null)(
  "a 5-waypoint route planned on the map flies on ArduCopter SITL, and a second browser sees it completed",
  async () => {
    const { server } = suite;
    const pilot = await visitor({ width: 1280, height: 800 });
    const viewer = await visitor({ width: 1280, height: 800 });
    await openDashboard(pilot, server.http("/"));
    await openDashboard(viewer, server.http("/"));
    // The server flies simulated drones too: both browsers pick the copter, as an operator does in the fleet list.
    for (const page of [pilot, viewer]) {
      await page.click('#fleet-list tr[data-drone="copter"]');
      await page.locator("#mission-drone", { hasText: "copter" }).waitFor();
    }
    await claim(pilot);
    expect(await pilot.textContent("#strip-drone")).toBe("copter");
    // SITL reports 0°, 0° until its GPS has a fix: plan once the copter is drawn on the map at home.
    await homePoint(pilot, positionWithinMs);
    await planByClicking(pilot, fiveWaypoints);
    await pilot.click('[data-add="rth"]');
    expect((await listedItems(pilot)).map((item) => item.type)).toEqual(["takeoff", "waypoint", "waypoint", "waypoint", "waypoint", "waypoint", "rth"]);

    // The upload is refused until the autopilot has said where home is: the page says why, and the pilot tries again.
    const deadline = Date.now() + readyWithinMs;
    const refusals: string[] = [];
    while ((await shownMissionState(pilot)) !== "ready") {
      if (Date.now() > deadline) throw new Error(`upload not accepted within ${readyWithinMs} ms: ${refusals.slice(-3).join(" | ")}`);
      await pilot.locator("#mission-upload:not([disabled])").waitFor();
      await pilot.click("#mission-upload");
      await pilot.waitForFunction(() => document.getElementById("mission-status")?.dataset.state === "ready" || !document.getElementById("mission-message")?.hidden, undefined, { timeout: 30_000 });
      if ((await shownMissionState(pilot)) === "ready") break;
      refusals.push((await pilot.textContent("#mission-message")) ?? "");
      await Bun.sleep(retryMs);
    }
    await missionState(viewer, "ready");

    // Until EKF3 uses GPS the autopilot refuses to arm, or enters AUTO and disarms on the ground (aborted): start again until it flies.
    for (;;) {
      if (Date.now() > deadline) throw new Error(`mission not flying within ${readyWithinMs} ms: ${refusals.slice(-3).join(" | ")}`);
      await pilot.locator("#mission-start:not([disabled])").waitFor({ timeout: startAttemptMs });
      await pilot.click("#mission-start");
      await pilot.waitForFunction(
        () => {
          const status = document.getElementById("mission-status")!.dataset;
          const flying = status.state === "running" && (status.reached ?? "") !== "";
          return flying || status.state === "completed" || !(document.getElementById("mission-start") as HTMLButtonElement).disabled;
        },
        undefined,
        { timeout: startAttemptMs },
      );
      const state = await shownMissionState(pilot);
      if (state === "running" || state === "completed") break;
      refusals.push(`${state}: ${(await pilot.textContent("#mission-message")) || (await pilot.textContent("#mission-status"))}`);
      await Bun.sleep(retryMs);
    }
    console.log(`mission flying after ${refusals.length} refusals; the last: ${refusals.at(-1) ?? "none"}`);
    await viewer.locator('.mission-marker[data-progress="reached"]').first().waitFor({ timeout: missionWithinMs });
    await viewer.screenshot({ path: artifactPath("mission-sitl-running-viewer-1280.png"), fullPage: true });
    await missionState(viewer, "completed", missionWithinMs);
    expect(await viewer.locator('.mission-marker[data-progress="reached"]').count()).toBe(5);
    expect(await viewer.locator('#mission-items li[data-progress="reached"]').count()).toBe(7);
    await missionState(pilot, "completed");
    await viewer.screenshot({ path: artifactPath("mission-sitl-completed-viewer-1280.png"), fullPage: true });
    // The page raised no errors; the only console errors allowed are refused tiles (none are expected: they are local).
    expect(pilot.errors).toEqual([]);
    expect(viewer.errors).toEqual([]);
  },
  positionWithinMs + readyWithinMs + missionWithinMs + 60_000,
);
