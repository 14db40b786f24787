/**
 * Real Chromium for browser tests: Debian's /usr/bin/chromium driven by
 * playwright-core (playwright's own browser download does not work here).
 * Each launch gets a fresh temporary user-data dir (playwright makes one); console errors are collected so
 * tests can assert there are none.
 */
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./server.ts";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Screenshots and other test outputs: ignored by git. */
export const artifactsDir = join(repoRoot, "test-artifacts");

export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  /** Opens a page and records its console errors and uncaught exceptions. */
  newPage(): Promise<Page & { errors: string[] }>;
  close(): Promise<void>;
}

export async function launchBrowser(options: { colorScheme?: "light" | "dark"; width?: number; height?: number } = {}): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-quic",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
    colorScheme: options.colorScheme ?? "light",
  });
  return {
    browser,
    context,
    async newPage() {
      const page = (await context.newPage()) as Page & { errors: string[] };
      page.errors = [];
      page.on("console", (message) => {
        if (message.type() === "error") page.errors.push(message.text());
      });
      page.on("pageerror", (error) => page.errors.push(error.message));
      return page;
    },
    async close() {
      await browser.close();
    },
  };
}

export function artifactPath(name: string): string {
  mkdirSync(artifactsDir, { recursive: true });
  return join(artifactsDir, name);
}
