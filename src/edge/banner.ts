/**
 * The startup banner: where to find the page, every endpoint, health and
 * metrics, and the cluster. It goes to stderr, for people (stdout carries
 * JSON log lines only, among them `{"event":"listening","port":…}`). Its
 * first line, `skyport listening on HOST:PORT`, is what scripts and tests read
 * to learn the port.
 *
 * Owns the banner's text and the parsing of its first line, nothing more: it
 * neither prints nor starts anything.
 */
import type { Config } from "./config.ts";
import { endpointRoutes, httpPaths } from "./paths.ts";

/** The first line of a banner: `skyport listening on HOST:PORT`. */
const listeningLinePattern = /^skyport listening on (.+):(\d+)$/;

/** What the banner tells about a server: where it listens, what it flies, its cluster. */
export interface BannerFacts {
  /** The page's URL, e.g. `http://127.0.0.1:8080/`. */
  url: URL;
  drones: readonly string[];
  /** The cluster line's text after `cluster  `, or null when the server runs alone. */
  cluster: string | null;
}

/** The banner's lines, the listening line first. */
export function bannerLines({ url, drones, cluster }: BannerFacts): string[] {
  const ws = new URL(url);
  ws.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const endpointLine = (label: string, path: string) => `  ${label.padEnd(8)} ${new URL(path, ws).href}`;
  return [
    `skyport listening on ${url.host}`,
    `  page     ${url.href}`,
    ...endpointRoutes.map(({ endpoint, label, path }) =>
      endpoint === "drone" ? `${endpointLine(label, path)}   (drones: ${drones.join(", ")})` : endpointLine(label, path),
    ),
    `  health   ${new URL(httpPaths.health, url).href}`,
    `  metrics  ${new URL(httpPaths.metrics, url).href}`,
    ...(cluster === null ? [] : [`  cluster  ${cluster}`]),
  ];
}

/** The port in a `skyport listening on HOST:PORT` line, or null for any other line. */
export function parseListeningPort(line: string): number | null {
  const match = listeningLinePattern.exec(line);
  return match ? Number(match[2]) : null;
}


/**
 * The cluster line's text: the node (or each worker's node) and the Redis,
 * its password redacted by the caller.
 */
export function clusterLine(nodeIds: readonly string[], redactedRedisUrl: string): string {
  const nodes = nodeIds.length === 1 ? `node ${nodeIds[0]}` : `nodes ${nodeIds.join(", ")}`;
  return `${nodes} via ${redactedRedisUrl} (drones are shared with every node on it)`;
}

/** Warnings every start prints on stderr, once, for settings that leave the server open. */
export function startupWarnings(config: Pick<Config, "pilotToken" | "allowedOrigins"> & Partial<Pick<Config, "viewerToken" | "jwtSecret" | "jwtKeysFile">>): string[] {
  // With signed tokens, each user's rights decide who flies: no pilot token is needed.
  const signedTokens = (config.jwtSecret ?? config.jwtKeysFile ?? null) !== null;
  return [
    ...(config.pilotToken === null && !signedTokens ? ["skyport: warning: no pilot token is set, so anyone who can connect may fly (set SKYPORT_PILOT_TOKEN)"] : []),
    ...(!signedTokens && config.viewerToken === null ? ["skyport: warning: open mode: no viewer token or JWT keys are set, so anyone who can connect may watch (set SKYPORT_VIEWER_TOKEN or SKYPORT_JWT_SECRET)"] : []),
    ...(config.allowedOrigins === "*" ? ["skyport: warning: --allowed-origins * lets any web page open WebSockets to this server"] : []),
  ];
}
