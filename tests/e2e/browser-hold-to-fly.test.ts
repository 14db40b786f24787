/**
 * Hold-to-fly on the dashboard, in real Chromium against a real server
 * (issue 16): a held key or pad button flies continuously (velocity
 * commands inside the server's 1 s dead-man hold) and letting go stops the
 * drone at once; a tap is still one step; a gamepad's stick flies it too.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { claim, dashboardSuite, loggedCommandCount, openDashboard, shownTelemetry, waitForFlightState, waitMs, type DashboardPage } from "../support/dashboard.ts";

const { server, visitor } = dashboardSuite({ beforeAll, afterAll, afterEach });
const testTimeoutMs = 40_000;

/** A dashboard with alpha claimed and hovering at 2 m. */
async function hoveringPilot(): Promise<{ page: DashboardPage; running: ReturnType<typeof server> }> {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  await claim(page);
  await page.keyboard.press("t");
  await waitForFlightState(page, "hovering");
  return { page, running };
}

/** Waits until the server's own view of alpha says it hovers (the page's readouts lag a frame). */
async function serverHovers(running: ReturnType<typeof server>): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (running.flight.snapshot("alpha").state !== "hovering") {
    if (Date.now() > deadline) throw new Error(`alpha did not stop: ${running.flight.snapshot("alpha").state}`);
    await Bun.sleep(20);
  }
}

test("a held arrow key flies on past one step; letting go stops the drone at once", async () => {
  const { page, running } = await hoveringPilot();
  await page.keyboard.down("ArrowUp");
  // Held for 2.5 s (the gesture itself): the 5 m step would end at y = 5; the hold flies past it.
  await Bun.sleep(2500);
  const held = await shownTelemetry(page);
  expect(held.state).toBe("moving");
  expect(running.flight.snapshot("alpha").position.y).toBeGreaterThan(6);
  await page.keyboard.up("ArrowUp");
  await serverHovers(running);
  const stoppedAt = running.flight.snapshot("alpha").position.y;
  await Bun.sleep(500);
  expect(running.flight.snapshot("alpha").position.y).toBeCloseTo(stoppedAt, 3);
  await page.locator("#command-log li", { hasText: "alpha: flying while held" }).waitFor({ timeout: waitMs });
  await page.locator('#command-log li.log-command[data-status="done"]', { hasText: "alpha › hover" }).waitFor({ timeout: waitMs });
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("a tap is one step; a held pad button flies and its click is no extra step", async () => {
  const { page, running } = await hoveringPilot();
  await page.keyboard.press("ArrowUp");
  await page.locator('#command-log li.log-command[data-status="done"]', { hasText: "alpha › forward 5" }).waitFor({ timeout: waitMs });
  expect(running.flight.snapshot("alpha").position.y).toBeCloseTo(5, 3);
  expect(await page.isVisible("#command-log li:has-text('flying while held')")).toBe(false);

  await page.hover('button[data-action="right"]');
  await page.mouse.down();
  await Bun.sleep(1500);
  expect(running.flight.snapshot("alpha").state).toBe("moving");
  await page.mouse.up();
  await serverHovers(running);
  expect(running.flight.snapshot("alpha").position.x).toBeGreaterThan(1.5);
  expect(await loggedCommandCount(page, "right 5")).toBe(0);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("a gamepad's left stick flies forward while pushed and stops at rest", async () => {
  const running = server();
  const page = await visitor();
  // Headless Chromium has no gamepad to plug in: the Gamepad API's list is replaced by one
  // standard pad whose axes the test moves. The page's polling and the server are real.
  await page.addInitScript(() => {
    const pad = { id: "test pad", index: 0, connected: true, mapping: "standard", axes: [0, 0, 0, 0], buttons: [], timestamp: 0 };
    (window as unknown as { testPad: typeof pad }).testPad = pad;
    Object.defineProperty(navigator, "getGamepads", { value: () => [pad] });
  });
  await openDashboard(page, running.http("/"));
  await claim(page);
  await page.keyboard.press("t");
  await waitForFlightState(page, "hovering");
  await page.evaluate(() => window.dispatchEvent(new Event("gamepadconnected")));
  await page.locator("#command-log li", { hasText: "Gamepad connected" }).waitFor({ timeout: waitMs });
  await page.evaluate(() => ((window as unknown as { testPad: { axes: number[] } }).testPad.axes[1] = -1));
  await Bun.sleep(1500);
  expect(running.flight.snapshot("alpha").state).toBe("moving");
  expect(running.flight.snapshot("alpha").position.y).toBeGreaterThan(2);
  await page.evaluate(() => ((window as unknown as { testPad: { axes: number[] } }).testPad.axes[1] = 0));
  await serverHovers(running);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);
