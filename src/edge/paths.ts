/**
 * Every path skyport serves, in one table: the page, health, readiness, metrics and the
 * three WebSocket endpoints.
 *
 * Owns the paths and the endpoint names only. The routes (`routes.ts`), the
 * upgrade (`app.ts`), logs, metrics and the banner all read them from here;
 * nothing else spells a path.
 */

/** The WebSocket endpoints: `/echo`, `/drone`, and the tutorial-compatible `/api/controller`. */
export type Endpoint = "echo" | "drone" | "controller";

/** One WebSocket endpoint: its name in code, its path, and its label in the banner. */
export interface EndpointRoute {
  endpoint: Endpoint;
  path: string;
  label: string;
}

/** The WebSocket endpoints, in the order the banner lists them. Each accepts GET only. */
export const endpointRoutes: readonly EndpointRoute[] = [
  { endpoint: "echo", path: "/echo", label: "echo" },
  { endpoint: "drone", path: "/drone", label: "drone" },
  { endpoint: "controller", path: "/api/controller", label: "tutorial" },
];

/** Each endpoint's path, for logs and metrics labels. */
export const endpointPaths = Object.fromEntries(endpointRoutes.map((route) => [route.endpoint, route.path])) as Readonly<Record<Endpoint, string>>;

/** The plain HTTP paths. */
export const httpPaths = {
  /** The dashboard page. */
  page: "/",
  /** The page's scripts, styles and icon (page.ts builds them). */
  assets: "/assets/*",
  /** Where the page's map gets its tiles (map-tiles.ts). */
  mapTiles: "/map.json",
  health: "/healthz",
  /** 200 when ready for clients, 503 while draining or while a vehicle's link is down. */
  ready: "/readyz",
  metrics: "/metrics",
} as const;

/** The flight recorder's HTTP API (Bun route patterns; `:id` is a flight id). */
export const apiPaths = {
  flights: "/api/flights",
  flight: "/api/flights/:id",
  flightTelemetry: "/api/flights/:id/telemetry",
  flightExport: "/api/flights/:id/export",
} as const;
