/**
 * The dashboard map's raster tiles: the URL template (`--map-tiles`), the
 * attribution shown with them, the Content-Security-Policy source their
 * images come from, and `GET /map.json`, which tells the page both.
 *
 * Owns checking a template and deriving its image origin; knows nothing of
 * the page's build or of sockets. A template is Leaflet's: `{z}`, `{x}` and
 * `{y}` are required, `{s}` picks a subdomain (`a`, `b`, `c`), `{r}` is
 * Leaflet's retina suffix.
 */

/** OpenStreetMap's standard tiles: the default, used under its tile policy (light use, attribution shown). */
export const defaultMapTilesUrl = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
/** The attribution the OpenStreetMap licence asks for, with its link. */
export const openStreetMapAttribution = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';

/** Where the map's tiles come from, as the page is told it. */
export interface MapTiles {
  /** A Leaflet URL template, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`. */
  url: string;
  /** HTML shown in the map's corner (links only): the tiles' licence. */
  attribution: string;
}

/** The placeholders a template must hold. */
const requiredPlaceholders = ["{z}", "{x}", "{y}"] as const;
/** Every placeholder a template may hold. */
const knownPlaceholder = /\{(z|x|y|s|r)\}/g;

/**
 * Checks a tile URL template (already trimmed): why it is not one, naming
 * the rule broken and the value received, or null when it is.
 */
export function mapTilesUrlProblem(url: string): string | null {
  const shown = JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url);
  const missing = requiredPlaceholders.filter((placeholder) => !url.includes(placeholder));
  if (missing.length > 0) return `must be a tile URL template with {z}, {x} and {y}: ${missing.join(", ")} missing in ${shown}`;
  const stray = url.replace(knownPlaceholder, "").match(/\{[^}]*\}/);
  if (stray) return `may hold only {z}, {x}, {y}, {s} and {r}: found ${stray[0]} in ${shown}`;
  const sample = url.replace("{s}", "a").replace(knownPlaceholder, "0");
  if (!URL.canParse(sample)) return `must be an absolute http:// or https:// URL template: received ${shown}`;
  const parsed = new URL(sample);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `must be an http:// or https:// URL template: received ${shown}`;
  if (parsed.username !== "" || parsed.password !== "") return "must not carry a user name or password (every viewer's browser is sent the template): received a URL with credentials";
  return null;
}

/**
 * The CSP source the tiles' images come from: the template's origin, with
 * a `{s}.` subdomain widened to `*.` (`https://*.tile.example.org`).
 */
export function tileImageSource(url: string): string {
  const subdomains = url.includes("{s}.");
  const parsed = new URL(url.replace("{s}.", "").replace(knownPlaceholder, "0"));
  const host = subdomains ? `*.${parsed.host}` : parsed.host;
  return `${parsed.protocol}//${host}`;
}

/** The tiles the page is told about: the attribution given, else OpenStreetMap's for its own tiles, else none. */
export function mapTilesOf(config: { mapTilesUrl: string; mapAttribution: string | null }): MapTiles {
  const attribution = config.mapAttribution ?? (config.mapTilesUrl === defaultMapTilesUrl ? openStreetMapAttribution : "");
  return { url: config.mapTilesUrl, attribution };
}

/** `GET /map.json`: where the page's map gets its tiles; never cached, so a restart with new tiles is seen at once. */
export function mapTilesResponse(tiles: MapTiles): Response {
  return Response.json(tiles, { headers: { "Cache-Control": "no-cache" } });
}
