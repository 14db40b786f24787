/**
 * The page under its Content-Security-Policy in real Chromium: it connects,
 * flies, and opens its dialogs and the echo console without one CSP
 * violation (listened for with `securitypolicyviolation`), and another
 * site cannot frame it (issue 16).
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { claim, dashboardSuite, openDashboard, waitForFlightState, waitMs, type DashboardPage } from "../support/dashboard.ts";

const suite = dashboardSuite({ beforeAll, afterAll, afterEach });
const { cleanups, server } = suite;

async function visitor(): Promise<DashboardPage> {
  const page = await suite.visitor();
  // Recorded from the first script on: every violation the page's CSP reports.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  return page;
}

const violations = (page: DashboardPage) => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

test("the page works under its CSP: connect, fly, dialogs, echo console, no violation", async () => {
  const running = server();
  const page = await visitor();
  await openDashboard(page, running.http("/"));
  await claim(page);
  await page.click('button[data-action="takeoff"]');
  await waitForFlightState(page, "hovering");
  await page.click("#sign-in-button");
  await page.click("#sign-in-cancel");
  await page.click("#echo-open");
  await page.locator("#echo-send:not([disabled])").waitFor({ timeout: waitMs });
  await page.click("#echo-send");
  await page.locator("#echo-log li", { hasText: "Hello skyport!" }).first().waitFor({ timeout: waitMs });
  expect(await violations(page)).toEqual([]);
  expect(page.errors).toEqual([]);
}, 30_000);

test("another site cannot frame the page (frame-ancestors 'none', X-Frame-Options: DENY)", async () => {
  const running = server();
  const framing = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(`<!doctype html><iframe id="victim" src="${running.http("/")}"></iframe>`, { headers: { "Content-Type": "text/html" } }),
  });
  cleanups.push(() => framing.stop(true));
  const page = await suite.visitor();
  const refused = page.waitForEvent("console", { predicate: (message) => /frame-ancestors|X-Frame-Options|refused to/i.test(message.text()), timeout: waitMs });
  await page.goto(`http://127.0.0.1:${framing.port}/`);
  expect((await refused).text()).toMatch(/frame-ancestors 'none'/);
  const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
  // The blocked frame holds no dashboard: none of its elements exist.
  expect(await frame?.$("#connection").catch(() => null) ?? null).toBeNull();
}, 30_000);
