/**
 * The dashboard page at GET / and its files under /assets/, served from
 * memory with the browser security headers: a strict Content-Security-
 * Policy (no inline script or style, no framing, sockets and fetches to
 * this server only), X-Frame-Options, nosniff and no referrer.
 *
 * Bun serves an HTML bundle route itself and lets no handler add headers
 * to it (1.4.5), so the page is built once, on the first request, with
 * `Bun.build` from the same HTML entry (in memory: nothing is written), or
 * taken from the files a compiled binary embedded. Owns the build, the
 * file table and the headers; knows nothing of sockets or the Host check
 * (routes.ts puts every answer here behind it).
 */
import type { HTMLBundle } from "bun";
import { textResponse } from "./http.ts";

/** Where the page's scripts, styles and icons are served: their names carry a content hash. */
export const assetsPrefix = "/assets/";

/**
 * The page's Content-Security-Policy. Everything comes from this server
 * and nothing is inline; `connect-src 'self'` admits its own ws:/wss:
 * (CSP Level 3); `frame-ancestors 'none'` stops clickjacking of the flight
 * controls, as X-Frame-Options does for older browsers. Images may also
 * come from `tileSource`, the origin of the map's tiles (`--map-tiles`),
 * and no other.
 */
export function contentSecurityPolicy(tileSource: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${tileSource}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The headers on the page and every one of its files, for tiles from `tileSource`. */
export function pageSecurityHeaders(tileSource: string): Readonly<Record<string, string>> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(tileSource),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
}

/** Cache rules: the HTML is checked on every visit (it names the current assets); a hashed asset never changes. */
const htmlCacheControl = "no-cache";
const assetCacheControl = "public, max-age=31536000, immutable";

/** One built file, ready to answer with. */
interface PageFile {
  body: Blob;
  contentType: string;
  etag: string;
}

/** The built page: index.html and its assets by path. */
export interface PageFiles {
  index: PageFile;
  assets: ReadonlyMap<string, PageFile>;
}

/**
 * Builds the page's files once; later calls share the first build. A
 * compiled binary's bundle already lists its files; otherwise the HTML
 * entry is bundled now, in memory.
 */
export function pageFiles(bundle: HTMLBundle): Promise<PageFiles> {
  return (built ??= bundle.files ? fromEmbedded(bundle.files) : buildFrom(bundle.index));
}
let built: Promise<PageFiles> | undefined;

async function buildFrom(entry: string): Promise<PageFiles> {
  const result = await Bun.build({ entrypoints: [entry], publicPath: assetsPrefix, minify: true, target: "browser" });
  if (!result.success) throw new AggregateError(result.logs, `the page ${entry} did not build: ${result.logs.map(String).join("; ")}`);
  return table(result.outputs.map((output) => ({ path: output.path, body: output, contentType: output.type, etag: `"${output.hash ?? Bun.hash(output.path)}"` })));
}

/**
 * A compiled binary's embedded page. Its HTML names the assets at the root
 * (`/chunk-x.js`); they are served under `assetsPrefix` like a built page's,
 * so the HTML is rewritten to say so.
 */
async function fromEmbedded(files: NonNullable<HTMLBundle["files"]>): Promise<PageFiles> {
  const served = table(files.map((file) => ({ path: file.path, body: Bun.file(file.path), contentType: file.headers["content-type"], etag: file.headers.etag })));
  let html = await served.index.body.text();
  for (const path of served.assets.keys()) {
    const name = path.slice(assetsPrefix.length);
    html = html.replaceAll(`"/${name}"`, `"${path}"`).replaceAll(`"./${name}"`, `"${path}"`);
  }
  return { ...served, index: { ...served.index, body: new Blob([html]) } };
}

function table(files: Array<PageFile & { path: string }>): PageFiles {
  let index: PageFile | undefined;
  const assets = new Map<string, PageFile>();
  for (const { path, ...file } of files) {
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (name.endsWith(".html")) index = file;
    else assets.set(`${assetsPrefix}${name}`, file);
  }
  if (index === undefined) throw new Error(`the page build has no .html file: received ${files.map((file) => file.path).join(", ")}`);
  return { index, assets };
}

/** GET /: the page, with the security headers (`headers`: `pageSecurityHeaders` for this server's tiles). */
export async function pageResponse(bundle: HTMLBundle, request: Request, headers: Readonly<Record<string, string>>): Promise<Response> {
  return fileResponse((await pageFiles(bundle)).index, htmlCacheControl, request, headers);
}

/** GET /assets/<name>: one of the page's files, or 404 naming it. */
export async function assetResponse(bundle: HTMLBundle, request: Request, headers: Readonly<Record<string, string>>): Promise<Response> {
  const path = new URL(request.url).pathname;
  const file = (await pageFiles(bundle)).assets.get(path);
  if (file === undefined) return textResponse(404, `no such file: ${path.slice(0, 100)}`, { ...headers });
  return fileResponse(file, assetCacheControl, request, headers);
}

function fileResponse(file: PageFile, cacheControl: string, request: Request, securityHeaders: Readonly<Record<string, string>>): Response {
  const headers = { ...securityHeaders, "Content-Type": file.contentType, ETag: file.etag, "Cache-Control": cacheControl };
  if (request.headers.get("if-none-match") === file.etag) return new Response(null, { status: 304, headers });
  return new Response(file.body, { headers });
}
