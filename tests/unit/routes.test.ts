/**
 * The plain HTTP routes (src/edge/routes.ts), the path table
 * (src/edge/paths.ts) and the banner (src/edge/banner.ts), without a server.
 */
import { describe, expect, test } from "bun:test";
import { bannerLines, clusterLine, parseListeningPort, startupWarnings } from "../../src/edge/banner.ts";
import type { HealthReport } from "../../src/edge/health.ts";
import { endpointPaths, endpointRoutes, httpPaths } from "../../src/edge/paths.ts";
import { fallback, httpRoutes, metricsResponse, type GetRoute } from "../../src/edge/routes.ts";
import { MetricsRegistry } from "../../src/runtime/observability/registry.ts";

const report: HealthReport = {
  status: "ok",
  ready: true,
  version: "0.1.0",
  pid: 1,
  uptimeSeconds: 2,
  connections: { echo: 0, drone: 0, controller: 0, total: 0 },
  fleet: { total: 1, linkUp: 1, linkDown: [] },
  vehicles: [],
  cluster: null,
};

describe("routes", () => {
  const registry = new MetricsRegistry();
  registry.single("skyport_uptime_seconds", "gauge", "Seconds since the server started.", () => 7);
  let ready = { ready: true, reasons: [] as string[] };
  const mapTiles = { url: "https://{s}.tiles.example.org/{z}/{x}/{y}.png", attribution: "Example tiles" };
  const routes = httpRoutes({ health: () => report, readiness: () => ready, metrics: registry, hostRefusal: () => null, mapTiles });

  test("the table has the page, its assets, the map's tiles, health, readiness and metrics, each under GET", () => {
    expect(Object.keys(routes).sort()).toEqual(["/", "/assets/*", "/healthz", "/map.json", "/metrics", "/readyz"]);
    for (const route of Object.values(routes)) expect(Object.keys(route)).toEqual(["GET"]);
  });

  test("GET /map.json tells the page its tiles and their attribution, revalidated on every visit", async () => {
    const response = await (routes[httpPaths.mapTiles] as GetRoute).GET(new Request("http://x/map.json"));
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await response.json()).toEqual(mapTiles);
  });

  test("GET /healthz is the report as JSON, never cached", async () => {
    const response = (routes[httpPaths.health] as GetRoute).GET(new Request("http://x/healthz"));
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual(report);
  });

  test("GET /readyz is 200 when ready, 503 with the reasons when not, never cached", async () => {
    const get = () => (routes[httpPaths.ready] as GetRoute).GET(new Request("http://x/readyz"));
    const yes = get();
    expect(yes.status).toBe(200);
    expect(yes.headers.get("cache-control")).toBe("no-store");
    expect(await yes.json()).toEqual({ ready: true, reasons: [] });
    ready = { ready: false, reasons: ["draining"] };
    const no = get();
    expect(no.status).toBe(503);
    expect(await no.json()).toEqual({ ready: false, reasons: ["draining"] });
  });

  test("GET /metrics is the registry in the text exposition format", async () => {
    const response = metricsResponse(registry);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.text()).toContain("skyport_uptime_seconds 7\n");
  });

  test("a wrong method on a known path is 405 with Allow: GET; an unknown path is 404 naming it", async () => {
    const known = new Set(["/", "/echo"]);
    const wrongMethod = fallback(new Request("http://x/echo", { method: "POST" }), known, () => null);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");
    expect(await wrongMethod.text()).toBe("POST is not allowed on /echo: use GET\n");
    const missing = fallback(new Request("http://x/nope?q=1"), known, () => null);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("no such path: /nope\n");
  });
});

describe("the path table", () => {
  test("one entry per endpoint, paths derived from it", () => {
    expect(endpointRoutes.map((route) => route.endpoint)).toEqual(["echo", "drone", "controller"]);
    expect(endpointPaths).toEqual({ echo: "/echo", drone: "/drone", controller: "/api/controller" });
  });
});

describe("the banner", () => {
  test("lists the page, every endpoint from the table, health, metrics and the cluster", () => {
    const lines = bannerLines({ url: new URL("http://127.0.0.1:8080/"), drones: ["alpha", "bravo"], cluster: clusterLine(["n1"], "redis://127.0.0.1:6379") });
    expect(lines).toEqual([
      "skyport listening on 127.0.0.1:8080",
      "  page     http://127.0.0.1:8080/",
      "  echo     ws://127.0.0.1:8080/echo",
      "  drone    ws://127.0.0.1:8080/drone   (drones: alpha, bravo)",
      "  tutorial ws://127.0.0.1:8080/api/controller",
      "  health   http://127.0.0.1:8080/healthz",
      "  metrics  http://127.0.0.1:8080/metrics",
      "  cluster  node n1 via redis://127.0.0.1:6379 (drones are shared with every node on it)",
    ]);
    expect(parseListeningPort(lines[0]!)).toBe(8080);
  });

  test("https pages get wss endpoints; no cluster, no cluster line; several workers, several nodes", () => {
    const lines = bannerLines({ url: new URL("https://sky.example/"), drones: ["alpha"], cluster: null });
    expect(lines).toContain("  echo     wss://sky.example/echo");
    expect(lines.some((line) => line.startsWith("  cluster"))).toBe(false);
    expect(clusterLine(["a-w0", "a-w1"], "redis://r:6379")).toBe("nodes a-w0, a-w1 via redis://r:6379 (drones are shared with every node on it)");
  });

  test("warnings for an open server, none for a closed one", () => {
    expect(startupWarnings({ pilotToken: null, allowedOrigins: "*" })).toEqual([
      "skyport: warning: no pilot token is set, so anyone who can connect may fly (set SKYPORT_PILOT_TOKEN)",
      "skyport: warning: --allowed-origins * lets any web page open WebSockets to this server",
    ]);
    expect(startupWarnings({ pilotToken: "p", allowedOrigins: new Set() })).toEqual([]);
  });

  test("open mode is said; signed tokens need no pilot token (issue 14)", () => {
    expect(startupWarnings({ pilotToken: "p", allowedOrigins: new Set(), viewerToken: null, jwtSecret: null, jwtKeysFile: null })).toEqual([
      "skyport: warning: open mode: no viewer token or JWT keys are set, so anyone who can connect may watch (set SKYPORT_VIEWER_TOKEN or SKYPORT_JWT_SECRET)",
    ]);
    expect(startupWarnings({ pilotToken: null, allowedOrigins: new Set(), viewerToken: null, jwtSecret: "s".repeat(32), jwtKeysFile: null })).toEqual([]);
    expect(startupWarnings({ pilotToken: null, allowedOrigins: new Set(), viewerToken: null, jwtSecret: null, jwtKeysFile: "keys.json" })).toEqual([]);
  });
});
