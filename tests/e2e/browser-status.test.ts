/**
 * Honest status on the dashboard, in real Chromium against real servers:
 * the layout at 360, 768, 1280 and 1920 px while returning home (no
 * overflow, the whole state shown, the map on the first screen, a bigger
 * map on a bigger screen; screenshots in test-artifacts/), the status strip,
 * ack and completion times apart in the log, a claim that is not a
 * completed command, events kept across a reload, filtered, and spoken when
 * critical, and a server restart explained in words (issue 16).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { artifactPath } from "../support/browser.ts";
import { chooseStep, claim, dashboardSuite, openDashboard, waitForCommandDone, waitForConnection, waitForFlightState, waitMs, type DashboardPage } from "../support/dashboard.ts";
import { startTestServer } from "../support/server.ts";

const { cleanups, server, visitor } = dashboardSuite({ beforeAll, afterAll, afterEach });
const testTimeoutMs = 40_000;

/** Every element on screen whose content is wider than its box (clipped or spilling), by a description. */
function overflowing(page: DashboardPage): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const describe = (element: Element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ""}${element.className && typeof element.className === "string" ? `.${element.className.split(" ").join(".")}` : ""} "${element.textContent?.trim().slice(0, 30)}"`;
    if (document.documentElement.scrollWidth > window.innerWidth) found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    for (const element of document.querySelectorAll("button, dd, .strip-item, .strip-item > *, .badge, .flag, .readout, kbd")) {
      const box = element as HTMLElement;
      if (box.offsetParent === null) continue; // not shown
      if (box.scrollWidth > box.clientWidth + 1) found.push(`${describe(box)} is ${box.scrollWidth} px wide in ${box.clientWidth}`);
    }
    // A button's label must stay inside the button.
    for (const button of document.querySelectorAll<HTMLElement>(".pad button, .actions button")) {
      const outer = button.getBoundingClientRect();
      for (const part of button.querySelectorAll(":scope > span")) {
        const inner = part.getBoundingClientRect();
        if (inner.left < outer.left - 0.5 || inner.right > outer.right + 0.5) found.push(`${describe(button)}: its label spills out`);
      }
    }
    return found;
  });
}

describe("layout while returning home", () => {
  const mapAreas = new Map<number, number>();
  for (const [width, height] of [[360, 780], [768, 1024], [1280, 800], [1920, 1080]] as const) {
    test(`${width} px: nothing overflows, "Returning home" whole, the map on the first screen`, async () => {
      const running = server();
      const page = await visitor({ width, height });
      await openDashboard(page, running.http("/"));
      await claim(page);
      await chooseStep(page, "move-step", 10);
      await page.keyboard.press("t");
      await waitForCommandDone(page, "takeoff");
      await page.keyboard.press("ArrowUp");
      await waitForCommandDone(page, "forward 10");
      await page.keyboard.press("h");
      await waitForFlightState(page, "returning");
      await page.screenshot({ path: artifactPath(`dashboard-returning-${width}.png`) });
      expect(await overflowing(page)).toEqual([]);
      expect(await page.textContent("#strip-state")).toBe("Returning home");
      expect(await page.textContent("#readout-state")).toBe("Returning home");
      const map = (await page.locator("#map").boundingBox())!;
      expect(map.y).toBeLessThan(height * 0.6);
      expect(map.height).toBeGreaterThan(150);
      mapAreas.set(width, map.width * map.height);
      // The strip stays in view when the pilot scrolls down to the controls.
      await page.locator('button[data-action="emergency"]').scrollIntoViewIfNeeded();
      const strip = (await page.locator("#strip-state").boundingBox())!;
      expect(strip.y).toBeGreaterThanOrEqual(0);
      expect(strip.y + strip.height).toBeLessThanOrEqual(height);
      expect(page.errors).toEqual([]);
    }, testTimeoutMs);
  }

  test("the map grows on a wider screen", () => {
    expect(mapAreas.get(1920)!).toBeGreaterThan(mapAreas.get(1280)! * 1.5);
  });
});

test("the status strip: pilot, server round trip and vehicle link, battery, motors and mode, GPS", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  expect(await page.textContent("#strip-pilot")).toBe("nobody");
  await page.locator("#strip-link", { hasText: /^server \d+ ms · vehicle up$/ }).waitFor({ timeout: waitMs });
  expect(await page.textContent("#strip-gps")).toBe("3D · 10 sats");
  expect(await page.textContent("#strip-armed")).toBe("Disarmed · GUIDED");
  await claim(page);
  expect(await page.textContent("#strip-pilot")).toBe("you");
  await page.keyboard.press("t");
  await waitForFlightState(page, "hovering");
  await page.locator("#strip-armed", { hasText: "Armed · GUIDED" }).waitFor({ timeout: waitMs });
  // Flying drains the battery: after a few seconds of samples the strip says how long it lasts.
  await page.locator("#strip-battery", { hasText: /^\d+ % · ≈ \d+ (min|s) left$/ }).waitFor({ timeout: waitMs });
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("the log shows the ack round trip and the completion time apart, and a claim as granted, not done", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  await claim(page);
  const claimLine = page.locator("#command-log li.log-command", { hasText: "alpha › claim" });
  expect(await claimLine.getAttribute("data-status")).toBe("granted");
  expect(await claimLine.locator(".log-status").textContent()).toBe("granted: you are the pilot");
  await page.keyboard.press("t");
  await waitForCommandDone(page, "takeoff");
  const takeoff = page.locator('#command-log li.log-command[data-status="done"]', { hasText: "alpha › takeoff" });
  expect(await takeoff.locator(".log-rtt").textContent()).toMatch(/^\d+ ms$/);
  expect(await takeoff.locator(".log-status").textContent()).toMatch(/^done ✓ in \d+\.\d s$/);
  // The completion took the takeoff's seconds, not the ack's milliseconds.
  const seconds = Number((await takeoff.locator(".log-status").textContent())!.match(/in (\d+\.\d) s/)![1]);
  expect(seconds).toBeGreaterThan(0.3);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("a critical event is spoken (unless muted), kept across a reload, and the log filters by severity", async () => {
  const running = server({ failsafeSeconds: 1 });
  const page = await visitor();
  // The browser's speech is recorded, not heard: a headless test has no speakers.
  await page.addInitScript(() => {
    const spoken: string[] = [];
    (window as unknown as { spoken: string[] }).spoken = spoken;
    window.speechSynthesis.speak = (utterance: SpeechSynthesisUtterance) => void spoken.push(utterance.text);
  });
  await openDashboard(page, running.http("/"));
  expect(await page.textContent("#voice-alerts")).toBe("Voice alerts: on");
  await claim(page);
  await page.keyboard.press("t");
  await waitForFlightState(page, "hovering");
  await page.click("#release-button");
  const failsafe = page.locator('#command-log li.log-event[data-kind="failsafe"]').first();
  await failsafe.waitFor({ timeout: waitMs });
  expect(await failsafe.getAttribute("data-level")).toBe("danger");
  await page.waitForFunction(() => (window as unknown as { spoken: string[] }).spoken.includes("alpha: failsafe"), undefined, { timeout: waitMs });

  // Filtered to critical lines, the commands are hidden and the failsafe stays.
  await page.selectOption("#log-filter", "danger");
  expect(await page.isVisible('#command-log li.log-command:has-text("alpha › takeoff")')).toBe(false);
  expect(await failsafe.isVisible()).toBe(true);

  // Muted, nothing more is said; the choice survives the reload, and so do the events.
  await page.click("#voice-alerts");
  expect(await page.textContent("#voice-alerts")).toBe("Voice alerts: off");
  const heardBefore = await page.evaluate(() => (window as unknown as { spoken: string[] }).spoken.length);
  await page.reload();
  await waitForConnection(page, "open");
  expect(await page.textContent("#voice-alerts")).toBe("Voice alerts: off");
  const kept = page.locator('#command-log li.log-event[data-kind="failsafe"][data-restored="true"]').first();
  await kept.waitFor({ timeout: waitMs });
  expect(await kept.getAttribute("data-level")).toBe("danger");
  expect(heardBefore).toBeGreaterThanOrEqual(1);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("a server restart is explained in an operator's words", async () => {
  const first = startTestServer();
  let firstStopped = false;
  cleanups.push(() => (firstStopped ? undefined : first.stop()));
  const page = await visitor();
  await openDashboard(page, first.http("/"));
  await first.stop();
  firstStopped = true;
  await waitForConnection(page, "reconnecting");
  const second = startTestServer({ port: first.port });
  cleanups.push(() => second.stop());
  const reset = page.locator('#command-log li.log-event[data-kind="stream_reset"]').first();
  await reset.waitFor({ timeout: 20_000 });
  expect(await reset.textContent()).toContain("the server restarted: this drone's telemetry starts again");
  expect(await reset.textContent()).not.toContain("seq");
  expect(page.errors).toEqual([]);
}, testTimeoutMs);
