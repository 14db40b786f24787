/**
 * Plain HTTP responses: errors for client mistakes, the health document and readiness.
 *
 * Web-standard `Request -> Response` helpers only; nothing Bun-specific, no
 * sockets. Every client mistake gets a 4xx with a one-line explanation, never
 * a 500.
 */
import type { HealthReport, Readiness } from "./health.ts";

/** A plain-text response, one line, for HTTP errors a person reads. */
export function textResponse(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message + "\n", {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...headers },
  });
}

/** 404 naming the path that does not exist. */
export function notFound(url: URL): Response {
  return textResponse(404, `no such path: ${url.pathname}`);
}

/** 405 naming the method refused and the ones allowed, with the `Allow` header RFC 9110 requires. */
export function methodNotAllowed(method: string, url: URL, allowed: readonly string[]): Response {
  return textResponse(405, `${method} is not allowed on ${url.pathname}: use ${allowed.join(" or ")}`, {
    Allow: allowed.join(", "),
  });
}

/** `GET /healthz`: the report as JSON, never cached. */
export function healthResponse(report: HealthReport): Response {
  return Response.json(report, { headers: { "Cache-Control": "no-store" } });
}

/** `GET /readyz`: 200 when ready, 503 with the reasons when not, never cached. */
export function readinessResponse(readiness: Readiness): Response {
  return Response.json(readiness, { status: readiness.ready ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
