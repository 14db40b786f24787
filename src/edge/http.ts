/**
 * Plain HTTP responses: errors for client mistakes and the health document.
 *
 * Web-standard `Request -> Response` helpers only; nothing Bun-specific, no
 * sockets. Every client mistake gets a 4xx with a one-line explanation, never
 * a 500.
 */
import type { VehicleHealth } from "../runtime/mavlink/links.ts";
import type { ClusterStatus } from "../runtime/cluster/broker.ts";

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

/** What `GET /healthz` reports. */
export interface HealthReport {
  /** `degraded`: in a cluster, Redis is unreachable; this node serves its own sockets only. */
  status: "ok" | "draining" | "degraded";
  /** The process answering: with `--workers`, which worker took this connection. */
  pid: number;
  uptimeSeconds: number;
  connections: Record<string, number> & { total: number };
  /** With --redis: this node's name, Redis state and the drones it simulates. */
  cluster?: ClusterStatus;
  /** With --mavlink: each real vehicle's link, GCS failsafe and warnings. */
  vehicles?: VehicleHealth[];
}

/** `GET /healthz`: the report as JSON, never cached. */
export function healthResponse(report: HealthReport): Response {
  return Response.json(report, { headers: { "Cache-Control": "no-store" } });
}
