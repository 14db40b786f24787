/**
 * The package's `skyport/client` build (dist/client/index.js, made by
 * scripts/build-sdk.ts as `npm install` does) in Chromium: a third-party page
 * on another origin imports the bundle as an ES module and flies a drone
 * through it. The Node 22 and Bun runs are tests/e2e/package.test.ts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, type Server } from "bun";
import { join } from "node:path";
import { launchBrowser, type TestBrowser } from "../support/browser.ts";
import { repoRoot, startTestServer } from "../support/server.ts";

let browser: TestBrowser;
let page: Server<undefined>;
let skyport: ReturnType<typeof startTestServer>;

/** The third party's page: imports the SDK bundle, claims alpha, takes off, and reports in its title. */
const appHtml = `<!doctype html><meta charset="utf-8"><title>starting</title>
<script type="module">
  import { SkyportClient } from "/vendor/skyport-client.js";
  const client = new SkyportClient({ url: new URLSearchParams(location.search).get("ws") });
  client.connect();
  try {
    await client.claim("alpha");
    const { ack, done } = await client.command("alpha", "takeoff");
    const { status } = await done;
    document.title = \`takeoff \${status} to z=\${ack.target.z}\`;
  } catch (error) {
    document.title = \`failed: \${error.message}\`;
  } finally {
    await client.close();
  }
</script>`;

beforeAll(async () => {
  const build = spawn([process.execPath, join(repoRoot, "scripts/build-sdk.ts")], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`build-sdk failed: ${await new Response(build.stderr).text()}`);
  page = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    routes: {
      "/": new Response(appHtml, { headers: { "Content-Type": "text/html; charset=utf-8" } }),
      "/vendor/skyport-client.js": new Response(Bun.file(join(repoRoot, "dist/client/index.js")), { headers: { "Content-Type": "text/javascript" } }),
      // The bundle's `//# sourceMappingURL=index.js.map`, beside it.
      "/vendor/index.js.map": new Response(Bun.file(join(repoRoot, "dist/client/index.js.map")), { headers: { "Content-Type": "application/json" } }),
      "/favicon.ico": new Response(null, { status: 204 }),
    },
    fetch: () => new Response("not found", { status: 404 }),
  });
  // The app lives on its own origin, which the server admits by name.
  skyport = startTestServer({ allowedOrigins: new Set([`http://127.0.0.1:${page.port}`]) });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  page?.stop(true);
  await skyport?.stop();
});

test("a page on another origin imports the bundle as an ES module and flies a takeoff", async () => {
  const tab = await browser.newPage();
  await tab.goto(`http://127.0.0.1:${page.port}/?ws=${encodeURIComponent(skyport.ws("/drone"))}`);
  await tab.waitForFunction(() => document.title !== "starting", undefined, { timeout: 15_000 });
  expect(await tab.title()).toBe("takeoff completed to z=2");
  expect(tab.errors).toEqual([]);
}, 30_000);
