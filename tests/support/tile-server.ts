/**
 * A local raster tile server for the map's browser tests: 256x256 PNG tiles
 * generated here (a tiny PNG encoder over node:zlib), each a solid colour
 * computed from its z/x/y, so a test knows which tile drew where. Serves
 * 127.0.0.1 on an ephemeral port; no network. It can be stopped to play an
 * offline field laptop.
 */
import { deflateSync } from "node:zlib";

/** A tile's side, pixels: the slippy-map standard. */
export const tileSizePx = 256;

/** The colour of tile z/x/y: light, distinct for neighbours, so screenshots read as a checkerboard. */
export function tileColour(z: number, x: number, y: number): [number, number, number] {
  return [200 + ((x * 37 + z * 11) % 56), 200 + ((y * 53 + z * 7) % 56), 220 + ((x + y) % 2) * 30];
}

/** A solid-colour RGB PNG, `size` x `size`: signature, IHDR, one IDAT (filter 0 rows), IEND. */
export function solidPng(size: number, [red, green, blue]: [number, number, number]): Uint8Array<ArrayBuffer> {
  const row = new Uint8Array(1 + size * 3);
  for (let i = 0; i < size; i++) row.set([red, green, blue], 1 + i * 3);
  const raw = new Uint8Array(row.length * size);
  for (let i = 0; i < size; i++) raw.set(row, i * row.length);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, size);
  view.setUint32(4, size);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, truecolour, deflate, no filter method, no interlace
  const signature = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))]);
}

/** One PNG chunk: length, type, data, CRC-32 over type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const typed = concat([new TextEncoder().encode(type), data]);
  const out = new Uint8Array(8 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(typed, 4);
  view.setUint32(8 + data.length, Bun.hash.crc32(typed));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export interface TileServer {
  /** The Leaflet URL template to give `--map-tiles`. */
  url: string;
  /** Every tile asked for, as `z/x/y`. */
  requested: string[];
  stop(): Promise<void>;
}

const tilePath = /^\/(\d+)\/(\d+)\/(\d+)\.png$/;

/** Starts a tile server on 127.0.0.1 (an ephemeral port unless `port` is given, e.g. to come back on the same one). */
export function startTileServer(port = 0): TileServer {
  const requested: string[] = [];
  const cache = new Map<string, Uint8Array<ArrayBuffer>>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch(request) {
      const match = tilePath.exec(new URL(request.url).pathname);
      if (!match) return new Response("no such tile", { status: 404 });
      const [z, x, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
      const key = `${z}/${x}/${y}`;
      requested.push(key);
      let png = cache.get(key);
      if (!png) {
        png = solidPng(tileSizePx, tileColour(z, x, y));
        cache.set(key, png);
      }
      return new Response(png, { headers: { "Content-Type": "image/png", "Cache-Control": "no-store" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/{z}/{x}/{y}.png`,
    requested,
    stop: () => server.stop(true),
  };
}

let shared: TileServer | null = null;

/** One tile server for every page a test process opens, started on first use: no test page ever asks the internet for tiles. */
export function sharedTileServer(): TileServer {
  return (shared ??= startTileServer());
}

/** The slippy-map tile that holds `lat`, `lon` at zoom `z` (Web Mercator, as OpenStreetMap numbers them). */
export function tileAt(lat: number, lon: number, z: number): { x: number; y: number } {
  const scale = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * scale);
  const radians = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(radians) + 1 / Math.cos(radians)) / Math.PI) / 2) * scale);
  return { x, y };
}
