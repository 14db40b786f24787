/**
 * The plain HTTP routes: the page, `/healthz`, `/metrics`, and 404 or 405 for
 * everything else.
 *
 * Each handler is web-standard `Request -> Response` over what the caller
 * gives it (a health report, a metrics registry); nothing here upgrades, and
 * nothing reads a clock or a socket. The WebSocket paths are added by
 * `app.ts`, from the same path table (`paths.ts`).
 */
import type { HTMLBundle } from "bun";
import page from "../../client/web/index.html";
import { healthResponse, methodNotAllowed, notFound, type HealthReport } from "./http.ts";
import { httpPaths } from "./paths.ts";
import { exposition, type MetricsRegistry } from "../runtime/observability/registry.ts";

/** A route that answers GET only; any other method on its path is a 405. */
export interface GetRoute {
  GET: (request: Request) => Response;
}

/** What the plain routes read at request time. */
export interface HttpRouteSources {
  /** The health document as of now. */
  health(): HealthReport;
  metrics: MetricsRegistry;
}

/** The methods every skyport path accepts. */
export const allowedMethods = ["GET"] as const;

/** The plain HTTP routes, keyed by path. */
export function httpRoutes(sources: HttpRouteSources): Record<string, GetRoute | { GET: Response }> {
  return {
    [httpPaths.page]: getOnly(page),
    [httpPaths.health]: { GET: () => healthResponse(sources.health()) },
    [httpPaths.metrics]: { GET: () => metricsResponse(sources.metrics) },
  };
}

/** `GET /metrics`: every registered family, never cached. */
export function metricsResponse(registry: MetricsRegistry): Response {
  return new Response(registry.render(), { headers: { "Content-Type": exposition, "Cache-Control": "no-store" } });
}

/** Any request no route answered: 405 on a known path (wrong method), else 404. */
export function fallback(request: Request, knownPaths: ReadonlySet<string>): Response {
  const url = new URL(request.url);
  if (knownPaths.has(url.pathname)) return methodNotAllowed(request.method, url, allowedMethods);
  return notFound(url);
}

/**
 * The page under GET only. Bun serves an HTML bundle as a per-method route
 * value (so `POST /` is a 405, not the page), but bun-types declares only
 * handlers and Responses there: this one conversion bridges that gap.
 */
function getOnly(bundle: HTMLBundle): { GET: Response } {
  return { GET: bundle as unknown as Response };
}
