/**
 * The plain HTTP routes: the page and its assets (page.ts, with the browser
 * security headers), the map's tiles (`/map.json`), `/healthz`, `/readyz`,
 * `/metrics`, and 404 or 405 for everything else; every one behind the
 * DNS-rebinding guard.
 *
 * Each handler is web-standard `Request -> Response` over what the caller
 * gives it (a health report, a metrics registry); nothing here upgrades, and
 * nothing reads a clock or a socket. The WebSocket paths are added by
 * `app.ts`, from the same path table (`paths.ts`).
 */
import page from "../../client/web/index.html";
import { assetResponse, pageResponse, pageSecurityHeaders } from "./page.ts";
import { mapTilesResponse, tileImageSource, type MapTiles } from "./map-tiles.ts";
import type { HealthReport, Readiness } from "./health.ts";
import { healthResponse, methodNotAllowed, notFound, readinessResponse, textResponse } from "./http.ts";
import { httpPaths } from "./paths.ts";
import { exposition, type MetricsRegistry } from "../runtime/observability/registry.ts";

/** A route that answers GET only; any other method on its path is a 405. */
export interface GetRoute {
  GET: (request: Request) => Response;
}

/** A GET route whose answer may wait (the page waits for its one build). */
export interface AsyncGetRoute {
  GET: (request: Request) => Response | Promise<Response>;
}

/** What the plain routes read at request time. */
export interface HttpRouteSources {
  /** The health document as of now. */
  health(): HealthReport;
  /** Whether the server takes new clients now, and why not. */
  readiness(): Readiness;
  metrics: MetricsRegistry;
  /** The DNS-rebinding guard: the 403 for a request whose Host is not this server's, else null. */
  hostRefusal(request: Request): Response | null;
  /** The dashboard map's tiles: told to the page at `/map.json`, and the CSP admits their images. */
  mapTiles: MapTiles;
}

/** The methods every skyport path accepts. */
export const allowedMethods = ["GET"] as const;

/** The plain HTTP routes, keyed by path. */
export function httpRoutes(sources: HttpRouteSources): Record<string, GetRoute | AsyncGetRoute> {
  const pageHeaders = pageSecurityHeaders(tileImageSource(sources.mapTiles.url));
  return {
    [httpPaths.page]: { GET: (request) => sources.hostRefusal(request) ?? pageResponse(page, request, pageHeaders) },
    [httpPaths.assets]: { GET: (request) => sources.hostRefusal(request) ?? assetResponse(page, request, pageHeaders) },
    [httpPaths.mapTiles]: { GET: (request) => sources.hostRefusal(request) ?? mapTilesResponse(sources.mapTiles) },
    [httpPaths.health]: { GET: (request) => sources.hostRefusal(request) ?? healthResponse(sources.health()) },
    [httpPaths.ready]: { GET: (request) => sources.hostRefusal(request) ?? readinessResponse(sources.readiness()) },
    [httpPaths.metrics]: { GET: (request) => sources.hostRefusal(request) ?? metricsResponse(sources.metrics) },
  };
}

/** `GET /metrics`: every registered family, never cached. */
export function metricsResponse(registry: MetricsRegistry): Response {
  return new Response(registry.render(), { headers: { "Content-Type": exposition, "Cache-Control": "no-store" } });
}

/** Any request no route answered: 403 for a Host that is not this server's, 405 on a known path (wrong method), else 404. */
export function fallback(request: Request, knownPaths: ReadonlySet<string>, hostRefusal: (request: Request) => Response | null): Response {
  const refused = hostRefusal(request);
  if (refused !== null) return refused;
  // CONNECT's authority form (`host:port`) is no URL: a client's mistake, never a 500.
  if (!URL.canParse(request.url)) return notAProxy(request);
  const url = new URL(request.url);
  if (knownPaths.has(url.pathname)) return methodNotAllowed(request.method, url, allowedMethods);
  return notFound(url);
}

/** Longest request target echoed in a refusal, characters. */
const maxEchoedTargetChars = 100;

/** A request whose target is not a path (CONNECT host:port, or anything Bun could not make a URL of): 405, Allow: GET. */
function notAProxy(request: Request): Response {
  const target = request.url.slice(0, maxEchoedTargetChars);
  return textResponse(405, `${request.method} ${target} is not allowed: skyport is not a proxy; use GET on a path such as /drone`, { Allow: allowedMethods.join(", ") });
}
