/**
 * Signing in on the dashboard, in real Chromium against real servers: a
 * refusal shown as a refusal (no reconnect loop), the viewer token and the
 * pilot token entered in the sign-in dialog, one token for both, tokens
 * kept in session storage only and never in the URL.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { claim, dashboardSuite, waitForConnection, waitMs, type DashboardPage } from "../support/dashboard.ts";
import { signHs256, testSecret } from "../support/jwt.ts";

const { server, visitor } = dashboardSuite({ beforeAll, afterAll, afterEach });
const testTimeoutMs = 30_000;

/** Fills the sign-in dialog and submits it. */
async function signIn(page: DashboardPage, tokens: { viewer?: string; pilot?: string }): Promise<void> {
  if (!(await page.isVisible("#sign-in-dialog"))) await page.click("#sign-in-button");
  await page.fill("#viewer-token", tokens.viewer ?? "");
  await page.fill("#pilot-token", tokens.pilot ?? "");
  await page.click("#sign-in-submit");
}

/** Upgrades the server saw on /drone, from its log. */
function droneUpgrades(running: { logger: { lines: Array<Record<string, unknown>> } }): number {
  return running.logger.lines.filter((line) => line.event === "ws_open").length;
}

test("a server that needs a viewer token: the refusal in words, the dialog open, no reconnect loop", async () => {
  const running = server({ viewerToken: "viewer-secret" });
  const page = await visitor();
  await page.goto(running.http("/"));
  await page.locator('#connection[data-state="refused"]').waitFor({ timeout: waitMs });
  expect(await page.textContent("#connection-text")).toBe("Refused: this server needs a viewer token");
  expect(await page.isVisible("#sign-in-dialog")).toBe(true);
  expect(await page.textContent("#sign-in-reason")).toBe("This server needs a viewer token.");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("viewer-token");
  // Two seconds later the page has still dialled once: a refusal is not retried.
  const dialled = droneUpgrades(running);
  await Bun.sleep(2000);
  expect(droneUpgrades(running)).toBe(dialled);
  expect(await page.getAttribute("#connection", "data-state")).toBe("refused");

  await signIn(page, { viewer: "guess" });
  await page.locator("#sign-in-reason", { hasText: "Wrong viewer token." }).waitFor({ timeout: waitMs });
  expect(await page.textContent("#connection-text")).toBe("Refused: wrong viewer token");

  await signIn(page, { viewer: "viewer-secret" });
  await waitForConnection(page, "open");
  expect(await page.textContent("#sign-in-button")).toBe("Signed in");
  // Kept for this tab, never in the address.
  expect(page.url()).not.toContain("viewer-secret");
  expect(await page.evaluate(() => sessionStorage.getItem("skyport.dashboard.tokens"))).toBe(JSON.stringify({ token: "viewer-secret" }));
  expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain("viewer-secret");
  // A reload signs in again from session storage.
  await page.reload();
  await waitForConnection(page, "open");
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("the pilot token: a claim without it asks for it in words; with it the drone is yours", async () => {
  const running = server({ pilotToken: "pilot-secret" });
  const page = await visitor();
  await page.goto(running.http("/"));
  await waitForConnection(page, "open");
  await page.click("#claim-button");
  await page.locator("#sign-in-reason", { hasText: "This server needs a pilot token to fly." }).waitFor({ timeout: waitMs });
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("pilot-token");
  await page.locator('#command-log li[data-status="error"]', { hasText: "this server needs a pilot token to fly" }).waitFor({ timeout: waitMs });

  await signIn(page, { pilot: "guess" });
  await waitForConnection(page, "open");
  await page.click("#claim-button");
  await page.locator("#sign-in-reason", { hasText: "Wrong pilot token." }).waitFor({ timeout: waitMs });

  await signIn(page, { pilot: "pilot-secret" });
  await waitForConnection(page, "open");
  await claim(page);
  expect(running.flight.fleet.pilotOf("alpha")).not.toBeNull();
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("a signed identity token (JWT) in the viewer field alone watches and flies", async () => {
  const running = server({ jwtSecret: testSecret });
  const page = await visitor();
  await page.goto(running.http("/"));
  await page.locator('#connection[data-state="refused"]').waitFor({ timeout: waitMs });
  const token = await signHs256({ sub: "alice", name: "Alice", scope: "fly:alpha view:*", exp: Math.floor(Date.now() / 1000) + 600 });
  await signIn(page, { viewer: token });
  await waitForConnection(page, "open");
  await claim(page);
  expect(running.flight.fleet.pilotOf("alpha")).not.toBeNull();
  // Another operator's strip names the pilot by the name in the token, not by a session id.
  const observer = await visitor();
  await observer.goto(running.http("/"));
  // The refusal opens the dialog by itself: wait for it, so the sign-in button is not clicked under an opening dialog.
  await observer.locator('#connection[data-state="refused"]').waitFor({ timeout: waitMs });
  const watcher = await signHs256({ sub: "bob", scope: "view:*", exp: Math.floor(Date.now() / 1000) + 600 });
  await signIn(observer, { viewer: watcher });
  await waitForConnection(observer, "open");
  await observer.locator("#strip-pilot", { hasText: "Alice" }).waitFor({ timeout: waitMs });
  expect(page.errors).toEqual([]);
  expect(observer.errors).toEqual([]);
}, testTimeoutMs);

test("one token for both (as a signed identity token will be): the viewer field alone watches and flies", async () => {
  const running = server({ viewerToken: "one-token", pilotToken: "one-token" });
  const page = await visitor();
  await page.goto(running.http("/"));
  await page.locator('#connection[data-state="refused"]').waitFor({ timeout: waitMs });
  await signIn(page, { viewer: "one-token" });
  await waitForConnection(page, "open");
  await claim(page);
  // Signing out forgets the token and meets the refusal again.
  await page.click("#sign-in-button");
  await page.click("#sign-out");
  await page.locator('#connection[data-state="refused"]').waitFor({ timeout: waitMs });
  expect(await page.evaluate(() => sessionStorage.getItem("skyport.dashboard.tokens"))).toBeNull();
  expect(page.errors).toEqual([]);
}, testTimeoutMs);

test("warned that the signed token expires, the operator pastes a fresh one: same socket, lease kept (issue 14)", async () => {
  const running = server({ jwtSecret: testSecret });
  const page = await visitor();
  await page.goto(running.http("/"));
  await page.locator('#connection[data-state="refused"]').waitFor({ timeout: waitMs });
  // Warned 60 s before exp plus the 5 s leeway: with 57 s left the warning comes at once.
  const now = Math.floor(Date.now() / 1000);
  await signIn(page, { viewer: await signHs256({ sub: "alice", scope: "fly:alpha view:*", exp: now + 57 }) });
  await waitForConnection(page, "open");
  await claim(page);
  const pilot = running.flight.fleet.pilotOf("alpha");
  await page.locator("#sign-in-reason", { hasText: "Your sign-in expires in" }).waitFor({ timeout: waitMs });
  const upgrades = droneUpgrades(running);
  await signIn(page, { viewer: await signHs256({ sub: "alice", scope: "fly:alpha view:*", exp: now + 3600 }) });
  await page.locator("#command-log", { hasText: "Signed in again" }).waitFor({ timeout: waitMs });
  expect(droneUpgrades(running)).toBe(upgrades);
  expect(running.flight.fleet.pilotOf("alpha")).toBe(pilot);
  expect(await page.isVisible('#role-badge[data-role="pilot"]')).toBe(true);
  expect(page.errors).toEqual([]);
}, testTimeoutMs);
