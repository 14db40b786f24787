/**
 * The dashboard's telemetry rate in real Chromium against a real skyport:
 * choosing 1 a second makes the server send each drone's latest frame about
 * once a second (counted on the page's own socket), every frame again on
 * request, the choice kept across a reload, and a data-saving browser
 * starting at 1 a second on its own (issue 18: viewers on slow links).
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { artifactPath } from "../support/browser.ts";
import { dashboardSuite, openDashboard, waitMs } from "../support/dashboard.ts";

const { server, visitor } = dashboardSuite({ beforeAll, afterAll, afterEach });
const testTimeoutMs = 40_000;

/** Arrival times (ms, this process's clock) of `drone`'s telemetry frames on the page's sockets, appended as they come. */
function frameArrivals(page: Page, drone = "alpha"): number[] {
  const arrivals: number[] = [];
  page.on("websocket", (socket) => {
    socket.on("framereceived", ({ payload }) => {
      if (typeof payload !== "string" || !payload.startsWith('{"type":"telemetry"')) return;
      const message = JSON.parse(payload) as { data: { drone: string } };
      if (message.data.drone === drone) arrivals.push(performance.now());
    });
  });
  return arrivals;
}

/** The gaps between the next `count` frames to arrive, ms (polls the arrivals; bounded by the page's wait). */
async function nextGaps(arrivals: number[], count: number): Promise<number[]> {
  const from = arrivals.length;
  const deadline = performance.now() + waitMs;
  while (arrivals.length < from + count + 1) {
    if (performance.now() > deadline) throw new Error(`only ${arrivals.length - from} frames arrived in ${waitMs} ms, waiting for ${count + 1}`);
    await Bun.sleep(50);
  }
  const window = arrivals.slice(from, from + count + 1);
  return window.slice(1).map((at, i) => at - window[i]!);
}

/** Picks a rate in the top bar's select. */
async function chooseRate(page: Page, value: "full" | "5" | "2" | "1"): Promise<void> {
  await page.selectOption("#telemetry-rate", value);
}

test("1 a second, then every frame again; the choice is kept across a reload", async () => {
  const running = server();
  const page = await visitor({ width: 390, height: 844 });
  const arrivals = frameArrivals(page);
  await openDashboard(page, running.http("/"));
  expect(await page.inputValue("#telemetry-rate")).toBe("full");
  // At the server's 10 Hz, frames come about 100 ms apart.
  expect(Math.max(...(await nextGaps(arrivals, 10)))).toBeLessThan(400);

  await chooseRate(page, "1");
  await page.getByText("Telemetry: at most 1 frame a second per drone").waitFor();
  // The first gap may straddle the change; the ones after it are a second apart.
  const slow = (await nextGaps(arrivals, 4)).slice(1);
  for (const gap of slow) expect(gap).toBeGreaterThan(700);
  await page.screenshot({ path: artifactPath("dashboard-telemetry-rate-390.png") });

  await page.reload();
  await openDashboard(page, running.http("/"));
  expect(await page.inputValue("#telemetry-rate")).toBe("1");
  for (const gap of (await nextGaps(arrivals, 4)).slice(1)) expect(gap).toBeGreaterThan(700);

  await chooseRate(page, "full");
  await page.getByText("Telemetry: every frame").waitFor();
  const fast = (await nextGaps(arrivals, 12)).slice(2);
  expect(Math.max(...fast)).toBeLessThan(400);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("a browser that asks to save data starts at 1 a second without being told", async () => {
  const running = server();
  const page = await visitor({ width: 390, height: 844 });
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, "connection", { get: () => ({ saveData: true }) }));
  const arrivals = frameArrivals(page);
  await openDashboard(page, running.http("/"));
  expect(await page.inputValue("#telemetry-rate")).toBe("1");
  for (const gap of (await nextGaps(arrivals, 4)).slice(1)) expect(gap).toBeGreaterThan(700);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);
