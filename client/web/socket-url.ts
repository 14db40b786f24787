/**
 * Where the page's WebSockets connect: the server that served the page.
 * Owns that one rule (wss: under https:, ws: otherwise); opens nothing.
 */

/**
 * The WebSocket URL of `path` on the page's own server.
 *
 * @example
 * sameServerSocketUrl({ protocol: "https:", host: "fleet.example:8443" }, "/drone"); // "wss://fleet.example:8443/drone"
 */
export function sameServerSocketUrl(location: Pick<Location, "protocol" | "host">, path: "/echo" | "/drone"): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
}
