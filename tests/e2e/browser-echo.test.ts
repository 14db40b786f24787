/** The page's echo console in real headless Chromium. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { artifactPath, launchBrowser, type TestBrowser } from "../support/browser.ts";
import { startTestServer } from "../support/server.ts";

let server: ReturnType<typeof startTestServer>;
let browser: TestBrowser;
beforeAll(async () => {
  server = startTestServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

test("the echo console opens, round-trips text, and closes with 1000", async () => {
  const page = await browser.newPage();
  await page.goto(server.http("/"));
  await page.click("#echo-open");
  await page.locator("#echo-log .log-open").waitFor({ timeout: 5000 });
  await page.fill("#echo-input", "hello from chromium 🚁");
  await page.click("#echo-send");
  await page.locator("#echo-log .log-response", { hasText: "hello from chromium 🚁" }).waitFor({ timeout: 5000 });
  await expect(page.locator("#echo-log .log-send").textContent()).resolves.toContain("hello from chromium 🚁");
  await page.screenshot({ path: artifactPath("echo-console.png") });
  await page.click("#echo-close");
  await page.locator("#echo-log .log-close").waitFor({ timeout: 5000 });
  expect(await page.locator("#echo-log .log-close").textContent()).toContain("code 1000");
  expect(await page.isDisabled("#echo-send")).toBe(true);
  expect(page.errors).toEqual([]);
});
