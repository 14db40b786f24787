/**
 * The dashboard's Flights panel in real Chromium against a recording server
 * (issue 13): a flight recorded over /drone is listed with its drone, start,
 * duration, pilot, altitude and distance; opening it draws its track on the
 * map and its altitude and battery charts, shows its command log and
 * downloads its CSV; Play makes the replay
 * vehicle appear in the fleet list and move on the map, and a second
 * browser (390 px wide) joins the same replay. Screenshots at 1280 and 390
 * px in test-artifacts/.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { openSqliteStore } from "../../src/runtime/recorder/sqlite-store.ts";
import { artifactPath } from "../support/browser.ts";
import { dashboardSuite, openDashboard, waitForAltitudeAbove, waitMs, type DashboardPage } from "../support/dashboard.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { tempDataDir } from "../support/recorder.ts";
import { startSimServer } from "../support/server.ts";

const { cleanups, server, visitor } = dashboardSuite({ beforeAll, afterAll, afterEach });
const dir = tempDataDir();
let flightId = "";
let pilotSession = "";

/** Records one flight of alpha (take off, forward 10, land) on the fake clock, into the store the browser test's server reads. */
beforeAll(async () => {
  const recording = startSimServer({ drones: ["alpha"] }, { recording: { store: openSqliteStore(dir.path), recovery: [] } });
  const pilot = await DroneTestClient.connect(recording.ws("/drone"));
  pilotSession = pilot.session;
  const flyTo = async (data: object, id: string) => {
    expect((await pilot.request("command", data, id)).type).toBe("ack");
    for (let t = 0; t < 30 && !pilot.messages.some((m) => m?.type === "done" && m.id === id); t += 0.5) {
      recording.advance(0.5);
      await Bun.sleep(1);
    }
  };
  expect((await pilot.request("claim", { drone: "alpha" }, "c")).type).toBe("ack");
  await flyTo({ drone: "alpha", name: "takeoff" }, "t");
  await flyTo({ drone: "alpha", name: "forward", args: [10] }, "f");
  await flyTo({ drone: "alpha", name: "land" }, "l");
  recording.advance(2);
  await recording.recorder!.flush();
  flightId = (await recording.recorder!.store.flights({ limit: 1 }))[0]!.id;
  pilot.close();
  await recording.stop();
});
afterAll(() => dir.remove());

/** A recording server with real timers on the store holding the flight. */
function flightsServer() {
  // Kept for as long as the settings allow: the flight is of the fake clock's day, not today's.
  return server({ drones: ["alpha"], retentionDays: 36_500 }, { recording: { store: openSqliteStore(dir.path), recovery: [] } });
}

/** Asks the panel for the list (it reads none until asked) and waits for it. */
async function showFlights(page: DashboardPage): Promise<void> {
  await page.click("#flights-refresh");
  await page.locator('#flights-status[data-state="loaded"]').waitFor({ timeout: waitMs });
}

async function openFlight(page: DashboardPage): Promise<void> {
  await page.locator(`#flights-list tr[data-flight="${flightId}"]`).click();
  await page.locator(`#flight-detail[data-flight="${flightId}"]`).waitFor({ timeout: waitMs });
}

/** The replay vehicle's position as the page shows it while it is selected. */
async function shownPosition(page: DashboardPage): Promise<{ x: number; seq: number }> {
  return page.$eval("#telemetry", (element) => ({ x: Number((element as HTMLElement).dataset.x), seq: Number((element as HTMLElement).dataset.seq) }));
}

test("lists the flight, draws its track, shows its log and downloads its CSV", async () => {
  const running = flightsServer();
  const page = await visitor({ width: 1280, height: 800 });
  await openDashboard(page, running.http("/"));
  await showFlights(page);
  const cells = await page.$$eval(`#flights-list tr[data-flight="${flightId}"] > *`, (row) => row.map((cell) => cell.textContent));
  expect(cells[0]).toBe("alpha");
  expect(cells[1]).toMatch(/^\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  expect(cells[2]).toMatch(/^\d+\.\d s$/);
  expect(cells[3]).toBe(pilotSession.slice(0, 8));
  expect(cells[4]).toMatch(/^\d+\.\d m$/);
  expect(Number.parseFloat(cells[5]!)).toBeCloseTo(10, 0);

  // Filtered by drone and day: a day without flights lists none, no day lists it again.
  expect(await page.$$eval("#flights-drone option", (options) => options.map((option) => (option as HTMLOptionElement).value))).toEqual(["", "alpha"]);
  await page.selectOption("#flights-drone", "alpha");
  await page.fill("#flights-day", "2025-06-01");
  await page.dispatchEvent("#flights-day", "change");
  await page.waitForFunction(() => document.querySelectorAll("#flights-list tr").length === 0, undefined, { timeout: waitMs });
  await page.fill("#flights-day", "");
  await page.dispatchEvent("#flights-day", "change");
  await page.locator(`#flights-list tr[data-flight="${flightId}"]`).waitFor({ timeout: waitMs });

  await openFlight(page);
  await page.waitForFunction(() => Number(document.getElementById("map")?.dataset.track) > 10, undefined, { timeout: waitMs });
  await page.locator("#map-panel").screenshot({ path: artifactPath("flights-track-1280.png") });
  // Altitude and battery over the whole flight: a point per recorded frame.
  const frames = Number(await page.$eval("#flight-altitude-chart", (canvas) => (canvas as HTMLElement).dataset.points));
  expect(frames).toBeGreaterThan(10);
  expect(await page.$eval("#flight-battery-chart", (canvas) => (canvas as HTMLElement).dataset.points)).toBe(String(frames));
  expect(await page.textContent("#flight-altitude-range")).toMatch(/^0\.0–\d+\.\d m$/);
  const log = await page.$$eval("#flight-log li", (items) => items.map((item) => item.textContent ?? ""));
  expect(log.some((line) => /takeoff completed in/.test(line))).toBe(true);
  expect(log.some((line) => /forward 10 completed in/.test(line))).toBe(true);
  expect(await page.$$eval("#flight-downloads button", (buttons) => buttons.map((button) => (button as HTMLElement).dataset.format))).toEqual(["csv", "gpx", "kml", "geojson", "tlog"]);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('#flight-downloads button[data-format="csv"]')]);
  expect(download.suggestedFilename()).toBe(`${flightId}.csv`);
  const csv = await Bun.file((await download.path())!).text();
  expect(csv.split("\n")[0]).toStartWith("time,");
  expect(csv.trim().split("\n").length).toBeGreaterThan(10);
  expect(page.errors).toEqual([]);
}, 60_000);

test("Play shows the replay vehicle moving in the fleet list and on the map; a second browser watches the same replay", async () => {
  const running = flightsServer();
  const replay = `replay:${flightId}`;
  const wide = await visitor({ width: 1280, height: 800 });
  await openDashboard(wide, running.http("/"));
  await showFlights(wide);
  await openFlight(wide);
  // The second browser is ready on the same flight before the replay starts: the recorded flight lasts a few
  // seconds (twice that at half speed), and it must join while the replay still moves.
  const narrow = await visitor({ width: 390, height: 844 });
  await openDashboard(narrow, running.http("/"));
  await showFlights(narrow);
  await openFlight(narrow);
  await wide.selectOption("#replay-speed", "0.5");
  await wide.click("#replay-play");
  await wide.locator(`#fleet-list tr[data-drone="${replay}"]`).waitFor({ timeout: waitMs });
  await wide.locator('.replay-controls[data-replay="playing"]').waitFor({ timeout: waitMs });
  expect(await wide.$eval("#drone-select", (select) => (select as HTMLSelectElement).value)).toBe(replay);
  // Nobody flies a replay: the page says so instead of offering the lease.
  expect(await wide.isDisabled("#claim-button")).toBe(true);
  expect(await wide.textContent("#control-reason")).toBe(`${replay} is a recorded flight played back: watch it, or steer the replay in Flights`);
  // It takes off as recorded: the page sees it climb.
  await waitForAltitudeAbove(wide, 0.5);

  await narrow.click("#replay-play");
  await narrow.locator(`#fleet-list tr[data-drone="${replay}"]`).waitFor({ timeout: waitMs });
  // It joined the replay already playing: its controls take that replay's speed (from the `replay` message that follows).
  await narrow.waitForFunction(() => (document.getElementById("replay-speed") as HTMLSelectElement | null)?.value === "0.5", undefined, { timeout: waitMs });
  const before = await shownPosition(narrow);
  await narrow.waitForFunction((seq) => Number(document.getElementById("telemetry")?.dataset.seq) > seq + 3, before.seq, { timeout: waitMs });
  expect(running.flight.replayIds()).toEqual([replay]);

  await wide.screenshot({ path: artifactPath("flights-1280.png"), fullPage: true });
  await narrow.screenshot({ path: artifactPath("flights-390.png"), fullPage: true });
  await narrow.locator("#flights-panel").screenshot({ path: artifactPath("flights-panel-390.png") });
  expect(await narrow.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(390);

  // Pause from one browser: the other's controls say so.
  await wide.click("#replay-pause");
  await narrow.locator('.replay-controls[data-replay="paused"]').waitFor({ timeout: waitMs });
  expect(wide.errors).toEqual([]);
  expect(narrow.errors).toEqual([]);
}, 60_000);

test("on a server that records nothing, the panel says so in one line", async () => {
  const running = server({ drones: ["alpha"] });
  const page = await visitor({ width: 1280, height: 800 });
  await openDashboard(page, running.http("/"));
  await page.click("#flights-refresh");
  await page.locator('#flights-status[data-state="unavailable"]').waitFor({ timeout: waitMs });
  expect(await page.textContent("#flights-status")).toBe("This server records no flights (started with --no-record).");
  expect(await page.$$eval("#flights-list tr", (rows) => rows.length)).toBe(0);
}, 30_000);
