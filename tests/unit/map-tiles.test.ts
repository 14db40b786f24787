/**
 * The map's tile settings: a URL template is checked (placeholders, scheme,
 * no credentials), its image origin becomes the CSP's img-src source, and
 * the attribution defaults to OpenStreetMap's for OpenStreetMap's tiles only.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError, defaultConfig, parseConfig } from "../../src/edge/config.ts";
import { defaultMapTilesUrl, mapTilesOf, mapTilesUrlProblem, openStreetMapAttribution, tileImageSource } from "../../src/edge/map-tiles.ts";
import { contentSecurityPolicy } from "../../src/edge/page.ts";

describe("tile URL templates", () => {
  test("a template with {z} {x} {y} over http(s) is one; {s} and {r} are allowed", () => {
    expect(mapTilesUrlProblem(defaultMapTilesUrl)).toBeNull();
    expect(mapTilesUrlProblem("http://127.0.0.1:8081/tiles/{z}/{x}/{y}{r}.png")).toBeNull();
    expect(mapTilesUrlProblem("https://{s}.tile.example.org/{z}/{x}/{y}.png")).toBeNull();
  });

  test("a template that is not one says what is wrong and what was received", () => {
    expect(mapTilesUrlProblem("https://tiles.example.org/{z}/{x}.png")).toBe('must be a tile URL template with {z}, {x} and {y}: {y} missing in "https://tiles.example.org/{z}/{x}.png"');
    expect(mapTilesUrlProblem("https://tiles.example.org/{z}/{x}/{y}.png?key={apikey}")).toContain("found {apikey}");
    expect(mapTilesUrlProblem("ftp://tiles.example.org/{z}/{x}/{y}.png")).toContain("must be an http:// or https:// URL template");
    expect(mapTilesUrlProblem("/tiles/{z}/{x}/{y}.png")).toContain("must be an absolute");
    expect(mapTilesUrlProblem("https://user:secret@tiles.example.org/{z}/{x}/{y}.png")).toContain("must not carry a user name or password");
  });

  test("the CSP admits images from the template's origin only, a {s} subdomain as a wildcard", () => {
    expect(tileImageSource(defaultMapTilesUrl)).toBe("https://tile.openstreetmap.org");
    expect(tileImageSource("http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png")).toBe("http://127.0.0.1:8081");
    expect(tileImageSource("https://{s}.tile.example.org/{z}/{x}/{y}.png")).toBe("https://*.tile.example.org");
    expect(contentSecurityPolicy("https://tile.openstreetmap.org")).toContain("img-src 'self' data: https://tile.openstreetmap.org;");
  });
});

describe("--map-tiles and --map-attribution", () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env);

  test("the default is OpenStreetMap's tiles with OpenStreetMap's attribution", () => {
    expect(mapTilesOf(defaultConfig)).toEqual({ url: defaultMapTilesUrl, attribution: openStreetMapAttribution });
  });

  test("other tiles get no OpenStreetMap credit unless --map-attribution gives one", () => {
    const own = parse(["--map-tiles", "http://127.0.0.1:9000/{z}/{x}/{y}.png"]);
    expect(mapTilesOf(own)).toEqual({ url: "http://127.0.0.1:9000/{z}/{x}/{y}.png", attribution: "" });
    const credited = parse(["--map-attribution", "Tiles by us"], { SKYPORT_MAP_TILES: "http://127.0.0.1:9000/{z}/{x}/{y}.png" });
    expect(mapTilesOf(credited)).toEqual({ url: "http://127.0.0.1:9000/{z}/{x}/{y}.png", attribution: "Tiles by us" });
  });

  test("a bad template is refused at start, naming where it came from", () => {
    expect(() => parse(["--map-tiles", "http://127.0.0.1/{z}.png"])).toThrow(ConfigError);
    expect(() => parse([], { SKYPORT_MAP_TILES: "http://127.0.0.1/{z}.png" })).toThrow(/SKYPORT_MAP_TILES must be a tile URL template/);
  });
});
