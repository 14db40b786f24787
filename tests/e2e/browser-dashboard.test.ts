/**
 * The drone dashboard at GET / in real headless Chromium, against real
 * servers: connection status, claiming and flying with buttons and keys, an
 * observer's view, reconnection across a server restart on the same port,
 * the echo console, the layout at 360 px and 1440 px, and dark mode.
 * Screenshots go to test-artifacts/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { DroneHistory } from "../../client/web/dashboard-history.ts";
import { flightPermission } from "../../client/web/dashboard-permission.ts";
import { actionForKey } from "../../client/web/ui/keymap.ts";
import { ringSpacingMetres, viewRadiusMetres } from "../../client/web/ui/map-scale.ts";
import { batteryLevel } from "../../client/web/ui/readouts.ts";
import type { TelemetryData } from "../../protocol/index.ts";
import { artifactPath, launchBrowser, type TestBrowser } from "../support/browser.ts";
import {
  chooseStep,
  claim,
  loggedCommandCount,
  newVisitor,
  openDashboard,
  shownTelemetry,
  waitForAltitudeAbove,
  waitForCommandDone,
  waitForConnection,
  waitForFlightState,
  waitMs,
  type DashboardPage,
} from "../support/dashboard.ts";
import { spawnServer, startTestServer, type ServerProcess } from "../support/server.ts";

let browser: TestBrowser;
/** Everything a test started, stopped after it whether it passed or not. */
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
/** Per-test budget, milliseconds: a flight takes seconds of real simulated time. */
const testTimeoutMs = 40_000;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function server(overrides: Parameters<typeof startTestServer>[0] = {}): ReturnType<typeof startTestServer> {
  const started = startTestServer(overrides);
  cleanups.push(() => started.stop());
  return started;
}

async function visitor(options: Parameters<typeof newVisitor>[1] = {}): Promise<DashboardPage> {
  const page = await newVisitor(browser.browser, options);
  cleanups.push(() => page.context().close());
  return page;
}

async function stopProcess(child: ServerProcess): Promise<void> {
  child.proc.kill("SIGTERM");
  await Promise.race([child.exited, Bun.sleep(waitMs)]);
  if (child.proc.exitCode === null) child.proc.kill("SIGKILL");
}

test("the page loads without console errors and shows it is connected", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  // The top bar shows the id's first 8 characters; the whole id is in the tooltip.
  expect(await page.textContent("#connection-text")).toMatch(/^Connected · session [A-Za-z0-9_-]{8}$/);
  expect(await page.getAttribute("#connection", "title")).toMatch(/^session [A-Za-z0-9_-]{22}$/);
  expect(await page.inputValue("#drone-select")).toBe("alpha");
  expect(await page.getAttribute("#role-badge", "data-role")).toBe("free");
  expect(await page.textContent("#control-reason")).toBe("Claim alpha to fly");
  expect(await page.isDisabled('button[data-action="takeoff"]')).toBe(true);
  expect(await page.isEnabled("#claim-button")).toBe(true);
  expect((await shownTelemetry(page)).state).toBe("landed");
  expect(await page.textContent("#readout-battery")).toBe("100 %");
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("Claim then Take off makes the altitude rise above 0.5 m within 5 s, and the log shows ack and done", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  await claim(page);
  expect(await page.textContent("#control-reason")).toBe("You fly alpha");
  expect(await page.isEnabled('button[data-action="takeoff"]')).toBe(true);
  await page.click('button[data-action="takeoff"]');
  await waitForAltitudeAbove(page, 0.5, 5000);
  const takeoff = page.locator('#command-log li.log-command[data-status="done"]', { hasText: "alpha › takeoff" });
  await takeoff.waitFor({ timeout: waitMs });
  expect(await takeoff.locator(".log-rtt").textContent()).toMatch(/^\d+ ms$/);
  // A refusal is logged with the server's code: the drone is already flying.
  await page.click('button[data-action="takeoff"]');
  await page.locator('#command-log li[data-status="error"]', { hasText: "already_flying" }).waitFor({ timeout: waitMs });
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("a second visitor is an observer: controls disabled with the reason, same telemetry", async () => {
  const running = server();
  const pilot = await visitor();
  const observer = await visitor();
  await openDashboard(pilot, running.http("/"));
  await openDashboard(observer, running.http("/"));
  await claim(pilot);
  const pilotSession = (await pilot.textContent("#connection-text"))!.replace(/^.* session /, "");
  await observer.locator('#role-badge[data-role="observer"]').waitFor({ timeout: waitMs });
  expect(await observer.textContent("#control-reason")).toBe(`Observer: alpha is flown by session ${pilotSession.slice(0, 8)}`);
  for (const action of ["takeoff", "forward", "cw", "hover", "emergency"]) {
    expect(await observer.isDisabled(`button[data-action="${action}"]`)).toBe(true);
  }
  expect(await observer.isDisabled("#claim-button")).toBe(true);
  expect(await observer.isDisabled("#release-button")).toBe(true);
  // Shortcuts do nothing for an observer either.
  await observer.keyboard.press("t");
  await pilot.click('button[data-action="takeoff"]');
  await waitForFlightState(pilot, "hovering");
  await waitForFlightState(observer, "hovering");
  // Both pages show the same stream: compare them at one seq.
  const seen = await observer.waitForFunction(() => Number(document.getElementById("telemetry")?.dataset.seq), undefined, { timeout: waitMs });
  const seq = Number(await seen.jsonValue()) + 2;
  const read = (page: DashboardPage) =>
    page.waitForFunction((wanted) => {
      const data = document.getElementById("telemetry")!.dataset;
      return Number(data.seq) >= wanted ? { seq: Number(data.seq), z: Number(data.z), state: data.state } : false;
    }, seq, { timeout: waitMs }).then((handle) => handle.jsonValue() as Promise<{ seq: number; z: number; state: string }>);
  const [fromPilot, fromObserver] = await Promise.all([read(pilot), read(observer)]);
  expect(fromObserver.state).toBe(fromPilot.state);
  expect(Math.abs(fromObserver.z - fromPilot.z)).toBeLessThan(0.5);
  expect(Math.abs(fromObserver.seq - fromPilot.seq)).toBeLessThanOrEqual(3);
  // The observer's command log hears nothing of the pilot's commands, but sees the lease change.
  expect(await observer.locator("#command-log li.log-command").count()).toBe(0);
  expect(await observer.textContent("#command-log")).toContain(`alpha is now flown by session ${pilotSession.slice(0, 8)}`);
  expect(pilot.errors).toEqual([]);
  expect(observer.errors).toEqual([]);
}, testTimeoutMs);

test("keyboard flight: T takes off, ArrowUp flies north; keys typed in the echo console do nothing", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  await claim(page);
  // Typing in the echo console must not fly: "t" there is just a letter.
  await page.fill("#echo-input", "");
  await page.type("#echo-input", "tlh ");
  expect(await page.inputValue("#echo-input")).toBe("tlh ");
  // A command sent while typing would reach the server before it publishes two more frames: wait for those, not for time.
  const typedAt = (await shownTelemetry(page)).seq;
  await page.waitForFunction((seq) => Number(document.getElementById("telemetry")?.dataset.seq) >= seq + 2, typedAt, { timeout: waitMs });
  expect(await loggedCommandCount(page, "takeoff")).toBe(0);
  expect((await shownTelemetry(page)).state).toBe("landed");

  await page.locator("#echo-input").blur();
  await page.keyboard.press("t");
  await waitForFlightState(page, "hovering");
  const before = await shownTelemetry(page);
  await page.keyboard.press("ArrowUp"); // forward along heading 0 = north = +y
  await page.waitForFunction((y) => Number(document.getElementById("telemetry")?.dataset.y) > y + 1, before.y, { timeout: waitMs });
  const after = await shownTelemetry(page);
  expect(after.y).toBeGreaterThan(before.y + 1);
  expect(Math.abs(after.x - before.x)).toBeLessThan(0.2);
  expect(await loggedCommandCount(page, "forward 5")).toBe(1);

  // Step sizes: 90° turn with E, typed while the focused step radio would otherwise take the key.
  await chooseStep(page, "turn-step", 90);
  await page.keyboard.press("e");
  await page.locator("#command-log li.log-command", { hasText: "alpha › cw 90" }).waitFor({ timeout: waitMs });
  await chooseStep(page, "move-step", 1);
  await page.keyboard.press("ArrowDown"); // flies back 1 m; must not move the radio selection to another step
  await page.locator("#command-log li.log-command", { hasText: "alpha › back 1" }).waitFor({ timeout: waitMs });
  expect(await page.isChecked('#move-step input[value="1"]')).toBe(true);

  // Space on a focused button hovers; it must not also click that button.
  await page.focus('button[data-action="up"]');
  await page.keyboard.press("Space");
  await page.locator("#command-log li.log-command", { hasText: "alpha › hover" }).waitFor({ timeout: waitMs });
  // A click from the same key would have logged "up" at once, and the hover's server round trip outlasts that.
  await waitForCommandDone(page, "hover");
  expect(await loggedCommandCount(page, "up 5")).toBe(0);
  expect(await loggedCommandCount(page, "up 1")).toBe(0);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("two taps of ArrowUp 200 ms apart end 10 m ahead: the second adds onto the first (issue 16)", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  await claim(page);
  await page.keyboard.press("t");
  await waitForFlightState(page, "hovering");
  const before = await shownTelemetry(page);
  await page.keyboard.press("ArrowUp");
  await page.waitForFunction(() => document.getElementById("telemetry")?.dataset.state === "moving", undefined, { timeout: waitMs });
  await page.waitForTimeout(200);
  await page.keyboard.press("ArrowUp");
  await page.locator("#command-log li.log-command", { hasText: "forward 5 (from the last target: goto" }).waitFor({ timeout: waitMs });
  await waitForFlightState(page, "hovering");
  const after = await shownTelemetry(page);
  expect(after.y - before.y).toBeCloseTo(10, 0);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("the emergency stop needs a 1 s hold: focus on Cancel, Enter and Esc cancel, a short press sends nothing, a full hold cuts the motors", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  await claim(page);
  await page.keyboard.press("t");
  await waitForAltitudeAbove(page, 1);
  // Esc is no shortcut for it any more: Esc means cancel everywhere.
  await page.keyboard.press("Escape");
  expect(await page.isVisible("#emergency-dialog")).toBe(false);
  await page.keyboard.press("x");
  await page.locator("#emergency-dialog[open]").waitFor({ timeout: waitMs });
  expect(await page.textContent("#emergency-drone")).toBe("alpha");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("emergency-cancel");
  await page.keyboard.press("Enter"); // the safe choice has the focus: Enter cancels
  await page.locator("#emergency-dialog").waitFor({ state: "hidden", timeout: waitMs });
  await page.click('button[data-action="emergency"]');
  await page.locator("#emergency-dialog[open]").waitFor({ timeout: waitMs });
  await page.keyboard.press("Escape"); // cancels the dialog
  await page.locator("#emergency-dialog").waitFor({ state: "hidden", timeout: waitMs });
  await page.keyboard.press("x");
  await page.locator("#emergency-dialog[open]").waitFor({ timeout: waitMs });
  // A click, or a press shorter than the hold, sends nothing and says so.
  await page.click("#emergency-hold");
  await page.hover("#emergency-hold");
  await page.mouse.down();
  await Bun.sleep(300);
  await page.mouse.up();
  expect(await page.getAttribute("#emergency-hint", "data-too-short")).toBe("true");
  expect(await page.isVisible("#emergency-dialog")).toBe(true);
  expect(await loggedCommandCount(page, "emergency")).toBe(0);
  // Held for the full second (keyboard: Space held on the button), it cuts the motors.
  await page.focus("#emergency-hold");
  await page.keyboard.down("Space");
  await page.locator("#emergency-dialog").waitFor({ state: "hidden", timeout: waitMs });
  await page.keyboard.up("Space");
  await waitForCommandDone(page, "emergency");
  // The fall from 2 m is over in moments; the flag stays until the next takeoff.
  await page.locator("#flags .flag", { hasText: "Motors cut" }).waitFor({ timeout: waitMs });
  expect(await loggedCommandCount(page, "emergency")).toBe(1);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("with two drones, the selector switches the readouts, the lease and the commands to the chosen drone", async () => {
  const running = server({ drones: ["alpha", "beta"] });
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  expect(await page.$$eval("#drone-select option", (options) => options.map((option) => (option as HTMLOptionElement).value))).toEqual(["alpha", "beta"]);
  await page.selectOption("#drone-select", "beta");
  expect(await page.textContent("#control-reason")).toBe("Claim beta to fly");
  await claim(page);
  await page.keyboard.press("t");
  await waitForCommandDone(page, "takeoff", { drone: "beta" });
  expect((await shownTelemetry(page)).z).toBeGreaterThan(1);
  // Back on alpha: still on the ground, and this page is not its pilot.
  await page.selectOption("#drone-select", "alpha");
  await page.waitForFunction(() => document.getElementById("telemetry-drone")?.textContent === "· alpha", undefined, { timeout: waitMs });
  expect((await shownTelemetry(page)).state).toBe("landed");
  expect(await page.getAttribute("#role-badge", "data-role")).toBe("free");
  expect(await page.isDisabled('button[data-action="takeoff"]')).toBe(true);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("the echo console round-trips text on the dashboard page", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  await page.click("#echo-open");
  await page.locator("#echo-log .log-open").waitFor({ timeout: waitMs });
  await page.fill("#echo-input", "echo from the dashboard ✈");
  await page.press("#echo-input", "Enter");
  await page.locator("#echo-log .log-response", { hasText: "echo from the dashboard ✈" }).waitFor({ timeout: waitMs });
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("stopping the server shows a reconnect countdown; a restart on the same port reconnects and telemetry resumes", async () => {
  const first = await spawnServer();
  cleanups.push(() => stopProcess(first));
  const port = first.port;
  const page = await visitor();
  await openDashboard(page, first.http("/"));
  await claim(page);
  const before = await shownTelemetry(page);

  await stopProcess(first);
  await waitForConnection(page, "reconnecting");
  await page.waitForFunction(() => /retrying in \d+\.\d s \(attempt \d+\)/.test(document.getElementById("connection-text")?.textContent ?? ""), undefined, { timeout: waitMs });
  expect(await page.textContent("#control-reason")).toContain("Reconnecting");
  expect(await page.isDisabled('button[data-action="takeoff"]')).toBe(true);
  await page.screenshot({ path: artifactPath("dashboard-reconnecting.png") });

  const second = await spawnServer(["--addr", `127.0.0.1:${port}`]);
  cleanups.push(() => stopProcess(second));
  expect(second.port).toBe(port);
  await waitForConnection(page, "open");
  // The restarted server counts seq from 0 again: fresh frames arrive and the SDK reclaims the lease.
  await page.waitForFunction((seq) => {
    const shown = Number(document.getElementById("telemetry")?.dataset.seq);
    return shown !== seq;
  }, before.seq, { timeout: waitMs });
  const firstSeq = (await shownTelemetry(page)).seq;
  await page.waitForFunction((seq) => Number(document.getElementById("telemetry")?.dataset.seq) > seq, firstSeq, { timeout: waitMs });
  await page.locator('#role-badge[data-role="pilot"]').waitFor({ timeout: waitMs });
  expect(await page.textContent("#command-log")).toContain("Connection lost: reconnecting");
}, testTimeoutMs);

test("mid-flight: 1440 px light, 360 px without horizontal scroll, and dark mode (screenshots)", async () => {
  const running = server();
  const wide = await visitor({ width: 1440, height: 900 });
  const narrow = await visitor({ width: 360, height: 780 });
  const dark = await visitor({ width: 1440, height: 900, colorScheme: "dark", deviceScaleFactor: 2 });
  for (const page of [wide, narrow, dark]) await openDashboard(page, running.http("/"));
  expect(await narrow.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(360);

  // Fly a dogleg from the wide page so every page has a trail, a target and a minute of charts to draw.
  await claim(wide);
  await wide.keyboard.press("t");
  await waitForCommandDone(wide, "takeoff");
  await chooseStep(wide, "move-step", 10);
  await wide.keyboard.press("r");
  await waitForCommandDone(wide, "up 10");
  await wide.keyboard.press("w");
  await waitForCommandDone(wide, "forward 10");
  await chooseStep(wide, "turn-step", 90);
  await wide.keyboard.press("e");
  await waitForCommandDone(wide, "cw 90");
  await wide.keyboard.press("w");
  await wide.waitForFunction(() => Number(document.getElementById("telemetry")?.dataset.x) > 5, undefined, { timeout: waitMs });

  await wide.screenshot({ path: artifactPath("dashboard-1440-light.png") });
  await narrow.screenshot({ path: artifactPath("dashboard-360.png"), fullPage: true });
  await dark.screenshot({ path: artifactPath("dashboard-dark.png") });

  expect(await narrow.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(360);
  const background = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [red, green, blue] = background.match(/\d+/g)!.map(Number);
  expect(red! + green! + blue!).toBeLessThan(3 * 64);
  const text = await dark.evaluate(() => getComputedStyle(document.body).color);
  expect(text.match(/\d+/g)!.map(Number).reduce((sum, part) => sum + part, 0)).toBeGreaterThan(3 * 180);
  // HiDPI: the canvases' backing stores follow devicePixelRatio, so lines stay crisp.
  const backing = await dark.$eval("#map-overlay", (canvas) => ({ pixels: (canvas as HTMLCanvasElement).width, css: canvas.getBoundingClientRect().width }));
  expect(Math.abs(backing.pixels - backing.css * 2)).toBeLessThanOrEqual(1);
  for (const page of [wide, narrow, dark]) expect(page.errors).toEqual([]);
}, testTimeoutMs);

// The page's pure logic, checked directly (no browser): the rules the panels above depend on.
describe("dashboard logic", () => {
  test("the map zooms in 1-2-5 steps with a margin, never closer than 10 m", () => {
    expect(viewRadiusMetres(0)).toBe(10);
    expect(viewRadiusMetres(8)).toBe(10);
    expect(viewRadiusMetres(9)).toBe(20);
    expect(viewRadiusMetres(35)).toBe(50);
    expect(viewRadiusMetres(257)).toBe(500);
    expect(viewRadiusMetres(480)).toBe(1000);
    expect(ringSpacingMetres(10)).toBe(2);
    expect(ringSpacingMetres(500)).toBe(100);
  });

  test("who may fly: pilot, observer with the pilot's session, free drone, offline, a replay", () => {
    const base = { connection: "open", drone: "alpha", session: "aaaa1111" } as const;
    expect(flightPermission({ ...base, pilot: "aaaa1111" })).toMatchObject({ role: "pilot", canFly: true, canRelease: true, reason: "You fly alpha" });
    expect(flightPermission({ ...base, pilot: "1a2b3c4d" })).toMatchObject({ role: "observer", canFly: false, canClaim: false, reason: "Observer: alpha is flown by session 1a2b3c4d" });
    expect(flightPermission({ ...base, pilot: null })).toMatchObject({ role: "free", canFly: false, canClaim: true, reason: "Claim alpha to fly" });
    expect(flightPermission({ ...base, connection: "reconnecting", pilot: "aaaa1111" })).toMatchObject({ role: "offline", canFly: false });
    const replay = "replay:alpha-1767225600000";
    expect(flightPermission({ ...base, drone: replay, pilot: null })).toMatchObject({ role: "observer", canFly: false, canClaim: false, reason: `${replay} is a recorded flight played back: watch it, or steer the replay in Flights` });
  });

  test("keys map by physical position and stay quiet with modifiers", () => {
    const key = (code: string, modifiers: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) =>
      actionForKey({ code, ctrlKey: false, metaKey: false, altKey: false, ...modifiers });
    expect([key("ArrowUp"), key("KeyW"), key("KeyS"), key("KeyQ"), key("KeyE"), key("KeyR"), key("KeyF")]).toEqual(["forward", "forward", "back", "ccw", "cw", "up", "down"]);
    expect([key("KeyT"), key("KeyL"), key("KeyH"), key("Space"), key("KeyX")]).toEqual(["takeoff", "land", "rth", "hover", "emergency"]);
    expect(key("Escape")).toBeNull(); // Esc means cancel everywhere; it is no flight shortcut (issue 16)
    expect(key("KeyR", { ctrlKey: true })).toBeNull(); // Ctrl+R reloads the page; it must not climb
    expect(key("KeyZ")).toBeNull();
  });

  test("battery thresholds: below 20 % warns, below 5 % is danger", () => {
    expect([batteryLevel(100), batteryLevel(20), batteryLevel(19.9), batteryLevel(5), batteryLevel(4.9)]).toEqual(["ok", "ok", "warn", "warn", "danger"]);
  });

  test("history keeps a minute of samples, skips replayed frames, and restarts the trail on a new stream", () => {
    const frame = (seq: number, time: number, x: number): TelemetryData => ({
      drone: "alpha", seq, time, state: "moving", lat: null, lon: null, altitudeMsl: null, position: { x, y: 0, z: 2 }, velocity: { x: 0, y: 0, z: 0 },
      heading: 0, speed: 0, battery: 90, voltage: null, armed: true, mode: "GUIDED", gps: { fix: "3d", satellites: 10 }, link: { status: "up", lastHeard: time }, flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false },
      target: null, pilot: null,
    });
    const history = new DroneHistory();
    for (let seq = 0; seq <= 700; seq++) history.add(frame(seq, 1_000_000 + seq * 100, seq));
    expect(history.altitude[0]!.time).toBe(1_000_000 + 100 * 100); // 60 s before the newest
    expect(history.trail.length).toBe(701);
    history.add(frame(650, 1_000_000 + 650 * 100, 1)); // a replayed duplicate: ignored
    expect(history.latest!.seq).toBe(700);
    history.add(frame(0, 2_000_000, 0)); // seq 0 later in time: the server restarted
    expect(history.latest!.seq).toBe(0);
    expect(history.trail).toEqual([{ x: 0, y: 0 }]);
  });
});
