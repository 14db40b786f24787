/**
 * The dashboard's mission editor in real Chromium against a local tile
 * server (issue 15): a pilot plans a 5-waypoint route by clicking the map,
 * uploads and starts it, and a second browser watching sees it progress to
 * completed, on the map and in the list; a dragged marker moves its
 * waypoint; what the page can check (the geofence) and what only the server
 * can (the battery a route needs) are both shown on the right item; the
 * plan survives a reload; pause and resume; a `.plan` exported and imported
 * again gives the same items. Screenshots in test-artifacts/.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { planToMission } from "../../protocol/index.ts";
import { artifactPath } from "../support/browser.ts";
import { claim, dashboardSuite, openDashboard } from "../support/dashboard.ts";
import { fiveWaypoints, listedItems, missionState, planByClicking, setField } from "../support/mission-page.ts";

const { server, visitor } = dashboardSuite({ beforeAll, afterAll, afterEach });
const testTimeoutMs = 90_000;
/** Longest a short simulated mission takes to fly, milliseconds. */
const missionFlightMs = 45_000;
const home = { lat: 51.4779, lon: -0.0015, altitudeMsl: 46 };

test("a pilot plans 5 waypoints on the map, uploads and starts them; a second browser sees the mission progress to completed", async () => {
  const running = server({ drones: ["alpha"], home });
  const pilot = await visitor({ width: 1280, height: 800 });
  const viewer = await visitor({ width: 1280, height: 800 });
  await openDashboard(pilot, running.http("/"));
  await openDashboard(viewer, running.http("/"));
  await claim(pilot);
  await planByClicking(pilot, fiveWaypoints);
  // While planning, a click adds a waypoint (the legend says so), never fly-here.
  expect(await pilot.textContent("#map-legend")).toContain("Click the map to add a waypoint");
  expect(await pilot.locator("#fly-here").count()).toBe(0);
  await setField(pilot, 0, "altitude", "5");
  await setField(pilot, 1, "speed", "12");
  await pilot.click('[data-add="land"]');
  const planned = await listedItems(pilot);
  expect(planned.map((item) => item.type)).toEqual(["takeoff", "waypoint", "waypoint", "waypoint", "waypoint", "waypoint", "land"]);
  // Each new waypoint flies at the altitude of the item before it.
  expect(planned.slice(1, 6).map((item) => item.altitude)).toEqual(["10", "10", "10", "10", "10"]);
  expect(await pilot.locator(".mission-line").count()).toBe(1);
  await pilot.screenshot({ path: artifactPath("mission-planned-1280.png"), fullPage: true });
  // The viewer sees no plan: planning is this browser's until it is uploaded.
  expect(await viewer.locator("#mission-items li").count()).toBe(0);

  await pilot.click("#mission-upload");
  await missionState(pilot, "ready");
  await missionState(viewer, "ready");
  expect(await viewer.locator("#mission-items li").count()).toBe(7);
  expect(await viewer.locator(".mission-marker").count()).toBe(5);
  // A viewer sees the mission read-only: no inputs, no buttons that change it.
  expect(await viewer.locator("#mission-items input").count()).toBe(0);
  expect(await viewer.locator("#mission-start").isDisabled()).toBe(true);

  await pilot.click("#mission-start");
  await missionState(viewer, "running");
  await viewer.locator('.mission-marker[data-progress="current"]').waitFor();
  await viewer.locator('.mission-marker[data-progress="reached"]').first().waitFor({ timeout: missionFlightMs });
  await viewer.screenshot({ path: artifactPath("mission-running-viewer-1280.png"), fullPage: true });
  await missionState(viewer, "completed", missionFlightMs);
  await missionState(pilot, "completed");
  expect(await viewer.locator('#mission-items li[data-progress="reached"]').count()).toBe(7);
  expect(await viewer.locator('.mission-marker[data-progress="reached"]').count()).toBe(5);
  await viewer.screenshot({ path: artifactPath("mission-completed-viewer-1280.png") });
  expect(pilot.errors).toEqual([]);
  expect(viewer.errors).toEqual([]);
}, testTimeoutMs);

test("dragging a marker moves its waypoint, in the list and on the line", async () => {
  const running = server({ drones: ["alpha"], home });
  const page = await visitor({ width: 1280, height: 800 });
  await openDashboard(page, running.http("/"));
  await planByClicking(page, fiveWaypoints.slice(0, 3));
  const before = await listedItems(page);
  const marker = (await page.locator('.mission-marker[data-item="2"]').boundingBox())!;
  const from = { x: marker.x + marker.width / 2, y: marker.y + marker.height / 2 };
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let step = 1; step <= 5; step++) await page.mouse.move(from.x + step * 8, from.y + step * 6);
  await page.mouse.up();
  await page.waitForFunction((lon) => document.querySelector<HTMLInputElement>('#mission-items li[data-item="2"] input[data-field="lon"]')?.value !== lon, before[2]!.lon!);
  const after = await listedItems(page);
  // Moved east and south; the other items stay where they were.
  expect(Number(after[2]!.lon)).toBeGreaterThan(Number(before[2]!.lon));
  expect(Number(after[2]!.lat)).toBeLessThan(Number(before[2]!.lat));
  expect([after[0], after[1], after[3]]).toEqual([before[0], before[1], before[3]]);
  const moved = (await page.locator('.mission-marker[data-item="2"]').boundingBox())!;
  expect(Math.hypot(moved.x + moved.width / 2 - (from.x + 40), moved.y + moved.height / 2 - (from.y + 30))).toBeLessThan(3);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("a waypoint beyond the geofence is marked in the page; a route the battery cannot fly is refused by the server, shown on its item", async () => {
  const running = server({ drones: ["alpha"], home });
  const page = await visitor({ width: 1280, height: 800 });
  await openDashboard(page, running.http("/"));
  await claim(page);
  await planByClicking(page, fiveWaypoints.slice(0, 3));
  await page.click('[data-add="land"]');
  expect(await page.locator("#mission-upload").isEnabled()).toBe(true);
  // 0.01 degrees north is over a kilometre: beyond the 500 m radius. The page says so before anything is sent.
  await setField(page, 2, "lat", String(home.lat + 0.01));
  await page.locator('#mission-items li[data-item="2"][data-problem="lat"]').waitFor();
  expect(await page.textContent('#mission-items li[data-item="2"] .mission-problem')).toMatch(/from home, beyond the 500 m radius/);
  expect(await page.getAttribute('#mission-items li[data-item="2"] input[data-field="lat"]', "aria-invalid")).toBe("true");
  expect(await page.locator('.mission-marker[data-item="2"][data-problem]').count()).toBe(1);
  expect(await page.locator("#mission-upload").isDisabled()).toBe(true);
  await page.screenshot({ path: artifactPath("mission-geofence-1280.png") });
  // Back inside; then an hour's hold at item 3, which only the server can judge (the battery it needs).
  await setField(page, 2, "lat", String(home.lat + 0.0001));
  await page.locator("#mission-items li[data-problem]").waitFor({ state: "detached" });
  await setField(page, 3, "holdSeconds", "3600");
  await page.click("#mission-upload");
  await page.locator('#mission-items li[data-item="3"][data-problem="item"]').waitFor();
  expect(await page.textContent('#mission-items li[data-item="3"] .mission-problem')).toMatch(/battery would reach/);
  expect(await page.locator("#mission-items li[data-problem]").count()).toBe(1);
  // Refused: the plan is still being edited, nothing reached the vehicle.
  expect(await page.getAttribute("#mission-panel", "data-planning")).toBe("true");
  await page.screenshot({ path: artifactPath("mission-refused-1280.png"), fullPage: true });
  // Editing the item clears the refusal.
  await setField(page, 3, "holdSeconds", "");
  await page.locator("#mission-items li[data-problem]").waitFor({ state: "detached" });
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("the plan being edited survives a reload (on a phone); the uploaded mission comes back from the server", async () => {
  const running = server({ drones: ["alpha"], home });
  const page = await visitor({ width: 390, height: 844 });
  await openDashboard(page, running.http("/"));
  await planByClicking(page, fiveWaypoints.slice(0, 3));
  await setField(page, 2, "holdSeconds", "2");
  const planned = await listedItems(page);
  await page.locator("#mission-panel").screenshot({ path: artifactPath("mission-planning-panel-390.png") });
  await page.reload();
  await openDashboard(page, running.http("/"));
  await page.locator('#mission-panel[data-planning="true"]').waitFor();
  expect(await listedItems(page)).toEqual(planned);
  expect(await page.locator(".mission-marker").count()).toBe(3);
  // Uploaded, the plan is gone from the browser; after a reload the server's `mission` shows it.
  await claim(page);
  await page.click("#mission-upload");
  await missionState(page, "ready");
  await page.reload();
  await openDashboard(page, running.http("/"));
  await missionState(page, "ready");
  expect(await page.getAttribute("#mission-panel", "data-planning")).toBe("false");
  expect(await page.locator("#mission-items li").count()).toBe(planned.length);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("pause holds the mission and resume flies it on, for the pilot and a viewer; clear removes it", async () => {
  const running = server({ drones: ["alpha"], home });
  const pilot = await visitor({ width: 1280, height: 800 });
  const viewer = await visitor({ width: 390, height: 844 });
  await openDashboard(pilot, running.http("/"));
  await openDashboard(viewer, running.http("/"));
  await claim(pilot);
  await planByClicking(pilot, [fiveWaypoints[0], fiveWaypoints[2]]);
  await setField(pilot, 1, "holdSeconds", "30");
  await pilot.click('[data-add="rth"]');
  await pilot.click("#mission-upload");
  await missionState(pilot, "ready");
  await pilot.click("#mission-start");
  await missionState(viewer, "running");
  await pilot.click("#mission-pause");
  await missionState(pilot, "paused");
  await missionState(viewer, "paused");
  expect(await pilot.locator("#mission-resume").isEnabled()).toBe(true);
  expect(await pilot.locator("#mission-pause").isDisabled()).toBe(true);
  await viewer.screenshot({ path: artifactPath("mission-paused-viewer-390.png"), fullPage: true });
  await pilot.click("#mission-resume");
  await missionState(viewer, "running");
  await pilot.click("#mission-pause");
  await missionState(pilot, "paused");
  await pilot.click("#mission-clear");
  await missionState(pilot, "none");
  await missionState(viewer, "none");
  expect(await viewer.locator(".mission-marker").count()).toBe(0);
  expect(pilot.errors).toEqual([]);
  expect(viewer.errors).toEqual([]);
}, testTimeoutMs);

test(".plan export then import gives the same items; a file that is not a plan is refused, saying why", async () => {
  const running = server({ drones: ["alpha"], home });
  const page = await visitor({ width: 1280, height: 800 });
  await openDashboard(page, running.http("/"));
  await planByClicking(page, fiveWaypoints.slice(0, 3));
  await setField(page, 1, "speed", "7");
  await setField(page, 2, "holdSeconds", "4");
  await setField(page, 3, "heading", "270");
  await page.click('[data-add="rth"]');
  const planned = await listedItems(page);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#mission-export")]);
  expect(download.suggestedFilename()).toBe("alpha.plan");
  const file = artifactPath("mission-export.plan");
  await download.saveAs(file);
  const read = planToMission(readFileSync(file, "utf8"));
  if (!read.ok) throw new Error(read.error.message);
  expect(read.items.map((item) => item.type)).toEqual(["takeoff", "waypoint", "waypoint", "waypoint", "rth"]);
  expect(read.home?.lat).toBeCloseTo(home.lat, 6);
  // A fresh plan, then the file imported over it: the same items as before.
  await page.click("#mission-discard");
  await page.locator('#mission-panel[data-planning="false"]').waitFor();
  await page.setInputFiles("#mission-import", file);
  await page.locator('#mission-panel[data-planning="true"]').waitFor();
  expect(await listedItems(page)).toEqual(planned);
  // Not a plan: refused with the reason, and the plan is kept.
  await page.setInputFiles("#mission-import", { name: "notes.plan", mimeType: "application/json", buffer: Buffer.from('{"fileType":"Notes"}') });
  await page.locator("#mission-message:not([hidden])").waitFor();
  expect(await page.textContent("#mission-message")).toContain('notes.plan: not a .plan file: fileType must be "Plan"');
  expect(await listedItems(page)).toEqual(planned);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);
