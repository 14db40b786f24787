/**
 * Helpers for driving the drone dashboard in real Chromium: pages in their
 * own browser contexts (so each is a separate visitor, with its own viewport
 * and colour scheme), console-error capture, and bounded waits on what the
 * page shows.
 *
 * Reads the page only through its ids and data-* attributes, never through
 * formatted text, so wording changes do not break tests.
 */
import type { Browser, Page } from "playwright-core";
import { launchBrowser, type TestBrowser } from "./browser.ts";
import { startTestServer } from "./server.ts";

/** Longest any single wait in the dashboard tests may take, milliseconds. */
export const waitMs = 10_000;

export type DashboardPage = Page & { errors: string[] };

export interface PageOptions {
  width?: number;
  height?: number;
  colorScheme?: "light" | "dark";
  /** devicePixelRatio of the page (2 for a HiDPI screen). */
  deviceScaleFactor?: number;
  /** Accept a certificate Chromium does not trust (a test CA's, for https:// and wss://). */
  ignoreHTTPSErrors?: boolean;
}

/** A page in a fresh browser context that records console errors and uncaught exceptions. */
export async function newVisitor(browser: Browser, options: PageOptions = {}): Promise<DashboardPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
    colorScheme: options.colorScheme ?? "light",
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
  });
  const page = (await context.newPage()) as DashboardPage;
  page.errors = [];
  page.on("console", (message) => {
    if (message.type() === "error") page.errors.push(message.text());
  });
  page.on("pageerror", (error) => page.errors.push(error.message));
  page.setDefaultTimeout(waitMs);
  return page;
}

/** Opens the dashboard and waits until it is connected and showing telemetry. */
export async function openDashboard(page: DashboardPage, url: string): Promise<void> {
  await page.goto(url);
  await waitForConnection(page, "open");
  await page.waitForFunction(() => document.getElementById("telemetry")?.dataset.seq !== "", undefined, { timeout: waitMs });
}

export async function waitForConnection(page: Page, state: "open" | "reconnecting" | "connecting" | "closed"): Promise<void> {
  await page.waitForFunction((wanted) => document.getElementById("connection")?.dataset.state === wanted, state, { timeout: waitMs });
}

export interface ShownTelemetry {
  seq: number;
  state: string;
  x: number;
  y: number;
  z: number;
}

/** The telemetry the page shows for its selected drone, from the readouts' data-* attributes. */
export async function shownTelemetry(page: Page): Promise<ShownTelemetry> {
  const data = await page.$eval("#telemetry", (element) => ({ ...(element as HTMLElement).dataset }));
  return { seq: Number(data.seq), state: data.state ?? "", x: Number(data.x), y: Number(data.y), z: Number(data.z) };
}

export async function waitForFlightState(page: Page, state: string): Promise<void> {
  await page.waitForFunction((wanted) => document.getElementById("telemetry")?.dataset.state === wanted, state, { timeout: waitMs });
}

/** Waits until the shown altitude is above `metres`; `timeout` in milliseconds. */
export async function waitForAltitudeAbove(page: Page, metres: number, timeout = waitMs): Promise<void> {
  await page.waitForFunction((floor) => Number(document.getElementById("readout-altitude")?.dataset.value) > floor, metres, { timeout });
}

/** Claims the selected drone with the Claim button and waits for the pilot badge. */
export async function claim(page: Page): Promise<void> {
  await page.click("#claim-button");
  await page.locator('#role-badge[data-role="pilot"]').waitFor({ timeout: waitMs });
}

/** Waits until the command logged as `label` (e.g. "cw 90") on `drone` has completed; `count` counts repeats. */
export async function waitForCommandDone(page: Page, label: string, { drone = "alpha", count = 1 } = {}): Promise<void> {
  const text = `${drone} › ${label}`;
  await page.waitForFunction(
    ([wanted, times]) =>
      [...document.querySelectorAll('#command-log li.log-command[data-status="done"] .log-label')].filter((item) => item.textContent === wanted).length >= times,
    [text, count] as const,
    { timeout: waitMs },
  );
}

/** Picks a step size radio (e.g. move 10 m, turn 90°) by clicking its label. */
export async function chooseStep(page: Page, group: "move-step" | "turn-step", value: number): Promise<void> {
  await page.click(`#${group} label:has(input[value="${value}"])`);
}

/** How many times the command `label` on `drone` appears in the log, whatever its outcome. */
export async function loggedCommandCount(page: Page, label: string, drone = "alpha"): Promise<number> {
  const text = `${drone} › ${label}`;
  return page.$$eval("#command-log li.log-command .log-label", (labels, wanted) => labels.filter((item) => item.textContent === wanted).length, text);
}

/**
 * The lifecycle of a dashboard test file: one Chromium for the file, and
 * what each test starts (servers, visitors) stopped after it whether it
 * passed or not. Call once at the top level of a test file.
 */
export function dashboardSuite(hooks: { beforeAll(fn: () => unknown): void; afterAll(fn: () => unknown): void; afterEach(fn: () => unknown): void }) {
  let browser: TestBrowser;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  hooks.beforeAll(async () => {
    browser = await launchBrowser();
  });
  hooks.afterAll(async () => {
    await browser?.close();
  });
  hooks.afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    cleanups,
    /** A skyport with real timers, stopped after the test. */
    server(overrides: Parameters<typeof startTestServer>[0] = {}, options: Parameters<typeof startTestServer>[1] = {}) {
      const started = startTestServer(overrides, options);
      cleanups.push(() => started.stop());
      return started;
    },
    /** A fresh visitor (its own browser context), closed after the test. */
    async visitor(options: PageOptions = {}): Promise<DashboardPage> {
      const page = await newVisitor(browser.browser, options);
      cleanups.push(() => page.context().close());
      return page;
    },
  };
}
