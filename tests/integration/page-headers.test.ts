/**
 * The page at GET / and its assets, over real HTTP: the browser security
 * headers on every file, the assets the HTML names all served, caching by
 * ETag, and the DNS-rebinding guard in front of them (issue 16).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { contentSecurityPolicy } from "../../src/edge/page.ts";
import { tileImageSource } from "../../src/edge/map-tiles.ts";
import { startTestServer } from "../support/server.ts";

let server: ReturnType<typeof startTestServer>;
beforeAll(() => {
  server = startTestServer();
});
afterAll(async () => {
  await server.stop();
});

function expectSecurityHeaders(response: Response): void {
  expect(response.headers.get("content-security-policy")).toBe(contentSecurityPolicy(tileImageSource(server.config.mapTilesUrl)));
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("referrer-policy")).toBe("no-referrer");
}

test("GET / carries a strict CSP that forbids framing and inline code, and the usual security headers", async () => {
  const response = await fetch(server.http("/"));
  expect(response.status).toBe(200);
  expectSecurityHeaders(response);
  const csp = response.headers.get("content-security-policy")!;
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).not.toContain("unsafe-eval");
  expect(response.headers.get("cache-control")).toBe("no-cache");
  const html = await response.text();
  // Nothing inline for the CSP to refuse: no inline script or style element, no style attribute, no handler attribute.
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(html).not.toMatch(/<style\b|\sstyle="|\son[a-z]+="/);
});

test("every asset the page names is served with the same headers, hashed and cached for good", async () => {
  const html = await (await fetch(server.http("/"))).text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
  expect(assets.length).toBeGreaterThanOrEqual(3); // script, style, icon
  for (const path of assets) {
    const response = await fetch(server.http(path));
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const etag = response.headers.get("etag")!;
    await response.arrayBuffer();
    const again = await fetch(server.http(path), { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
  }
});

test("an unknown asset is a 404 naming it", async () => {
  const response = await fetch(server.http("/assets/nope.js"));
  expect(response.status).toBe(404);
  expect(await response.text()).toBe("no such file: /assets/nope.js\n");
});

test("the page is behind the Host check like every other answer", async () => {
  const response = await fetch(server.http("/"), { headers: { Host: "rebind.example" } });
  expect(response.status).toBe(403);
  expect(await response.text()).toContain("DNS rebinding");
  const asset = await fetch(server.http("/assets/anything.js"), { headers: { Host: "rebind.example" } });
  expect(asset.status).toBe(403);
});
