/** Flag and environment parsing (pure) and how server.ts reports bad input. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, defaultConfig, HelpRequested, parseConfig, usage } from "../../src/edge/config.ts";
import { repoRoot, spawnServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

describe("parseConfig", () => {
  test("defaults to localhost:8080 and 16 MiB messages", () => {
    expect(parseConfig([], {})).toEqual({ ...defaultConfig });
    expect(defaultConfig).toMatchObject({ hostname: "localhost", port: 8080, echoMaxBytes: 16 * 1024 * 1024 });
  });

  test("--addr sets host and port, in both flag forms", () => {
    expect(parseConfig(["--addr", "127.0.0.1:9000"])).toMatchObject({ hostname: "127.0.0.1", port: 9000 });
    expect(parseConfig(["--addr=0.0.0.0:1"])).toMatchObject({ hostname: "0.0.0.0", port: 1 });
    expect(parseConfig(["--addr", ":7000"])).toMatchObject({ hostname: "0.0.0.0", port: 7000 });
    expect(parseConfig(["--addr", "[::1]:7001"])).toMatchObject({ hostname: "::1", port: 7001 });
  });

  test("HOST and PORT set the address; --addr wins over them", () => {
    expect(parseConfig([], { HOST: "0.0.0.0", PORT: "9001" })).toMatchObject({ hostname: "0.0.0.0", port: 9001 });
    expect(parseConfig(["--addr", "127.0.0.1:9002"], { HOST: "0.0.0.0", PORT: "9001" })).toMatchObject({
      hostname: "127.0.0.1",
      port: 9002,
    });
  });

  test.each([
    [["--addr", "localhost:99999"], /port in --addr must be a whole number from 0 to 65535: received "99999"/],
    [["--addr", "nonsense"], /--addr must be host:port.*received "nonsense"/],
    [["--bogus"], /unknown flag --bogus/],
    [["--addr"], /--addr needs a value/],
    [["stray"], /unexpected argument "stray"/],
    [["--echo-max-bytes", "-5"], /--echo-max-bytes must be a whole number/],
    [["--echo-max-bytes", "1.5"], /--echo-max-bytes must be a whole number/],
  ])("%p is refused", (argv, message) => {
    expect(() => parseConfig(argv)).toThrow(message);
    expect(() => parseConfig(argv)).toThrow(ConfigError);
  });

  test("drone flags and their environment variables", () => {
    expect(parseConfig(["--drones", "alpha,bravo-2,c_3", "--telemetry-hz", "50", "--replay-seconds", "30", "--failsafe-seconds", "0.5"])).toMatchObject({
      drones: ["alpha", "bravo-2", "c_3"],
      telemetryHz: 50,
      replaySeconds: 30,
      failsafeSeconds: 0.5,
    });
    expect(parseConfig([], { SKYPORT_DRONES: "x,y", SKYPORT_TELEMETRY_HZ: "20" })).toMatchObject({ drones: ["x", "y"], telemetryHz: 20 });
    expect(defaultConfig).toMatchObject({ drones: ["alpha"], telemetryHz: 10, replaySeconds: 60, failsafeSeconds: 10 });
  });

  test.each([
    [["--drones", "alpha,alpha"], /names "alpha" twice/],
    [["--drones", "Alpha"], /lowercase letters.*received "Alpha"/],
    [["--drones", "a,,b"], /received ""/],
    [["--telemetry-hz", "0"], /--telemetry-hz must be a number from 1 to 100: received "0"/],
    [["--telemetry-hz", "fast"], /--telemetry-hz must be a number/],
    [["--failsafe-seconds", "-1"], /--failsafe-seconds must be a number/],
  ])("%p is refused", (argv, message) => {
    expect(() => parseConfig(argv)).toThrow(message);
  });

  test("a bad PORT is refused naming PORT", () => {
    expect(() => parseConfig([], { PORT: "eighty" })).toThrow(/PORT must be a whole number/);
  });

  test("--help is not an error", () => {
    expect(() => parseConfig(["--help"])).toThrow(HelpRequested);
    expect(() => parseConfig(["--drones", "a", "-h"])).toThrow(HelpRequested);
  });

  test.each([
    [["-x"], 'unexpected argument "-x": flags start with --'],
    [["-abc"], 'unexpected argument "-abc": flags start with --'],
    [["--"], "unknown flag --"],
    [["--addr="], '--addr must be host:port, for example localhost:8080: received ""'],
    [["--addr", "--drones", "a"], '--addr must be host:port, for example localhost:8080: received "--drones"'],
    [["--addr", "nonsense", "--bogus"], '--addr must be host:port, for example localhost:8080: received "nonsense"'],
    [["--bogus", "--addr", "nonsense"], "unknown flag --bogus"],
    [["--drones", "a", "--workers"], "--workers needs a value: --workers n"],
    [["--node-id", "n".repeat(65)], `--node-id must be 1 to 64 letters, digits, . _ or -: received "${"n".repeat(65)}"`],
  ])("%p: the first mistake in argv is reported, in skyport's words", (argv, message) => {
    expect(() => parseConfig(argv)).toThrow(new ConfigError(message));
  });

  test("a flag given twice: the last one wins, as with any flag parser", () => {
    expect(parseConfig(["--drones", "a", "--drones=b"]).drones).toEqual(["b"]);
    expect(parseConfig(["--node-id", "n".repeat(64)]).nodeId).toBe("n".repeat(64));
  });

  test("usage lists every flag and environment variable", () => {
    const text = usage();
    for (const word of ["--addr", "--echo-max-bytes", "HOST", "PORT", "SKYPORT_ECHO_MAX_BYTES"]) expect(text).toContain(word);
  });
});

describe("server.ts with bad flags", () => {
  test.each([[["--addr", "localhost:99999"]], [["--addr", "nonsense"]], [["--unknown-flag"]]])(
    "%p prints one error line plus usage and exits 2",
    async (argv) => {
      const proc = Bun.spawn([process.execPath, "run", join(repoRoot, "server.ts"), ...argv], { stdout: "pipe", stderr: "pipe" });
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(code).toBe(2);
      const lines = stderr.split("\n");
      expect(lines[0]).toStartWith("skyport: ");
      expect(stderr).toContain("usage: skyport serve [flags]\n   or: bun run server.ts [flags]");
      expect(stderr).not.toContain("    at "); // no stack trace
    },
  );

  test("--help prints usage and exits 0", async () => {
    const proc = Bun.spawn([process.execPath, "run", join(repoRoot, "server.ts"), "--help"], { stdout: "pipe" });
    expect(await proc.exited).toBe(0);
    expect(await new Response(proc.stdout).text()).toContain("--addr host:port");
  });
});

describe("hardening flags", () => {
  test("defaults match the documented limits", () => {
    expect(defaultConfig).toMatchObject({
      pilotToken: null,
      viewerToken: null,
      maxConnections: 10_000,
      maxConnectionsPerIp: 100,
      droneMaxBytes: 65536,
      commandsPerSecond: 50,
      idleTimeoutSeconds: 120,
      stallSeconds: 30,
    });
  });

  test("origins, tokens and limits parse; tokens are never echoed in errors", () => {
    const config = parseConfig(["--allowed-origins", "https://a.example,http://b.example:8080", "--pilot-token", "p", "--max-connections", "5"], {
      SKYPORT_VIEWER_TOKEN: "v-1",
    });
    expect([...(config.allowedOrigins as Set<string>)]).toEqual(["https://a.example", "http://b.example:8080"]);
    expect(config).toMatchObject({ pilotToken: "p", viewerToken: "v-1", maxConnections: 5 });
    expect(parseConfig(["--allowed-origins", "*"]).allowedOrigins).toBe("*");
    expect(() => parseConfig(["--allowed-origins", "a.example"])).toThrow(/origins like https:\/\/app.example: received "a.example"/);
    expect(() => parseConfig(["--viewer-token", "has space secret"])).toThrow(ConfigError);
    try {
      parseConfig(["--viewer-token", "has space secret"]);
    } catch (error) {
      expect((error as Error).message).not.toContain("secret");
    }
  });

  test("--allowed-hosts: names without ports, a leading dot for subdomains, or * (issue 19 #12)", () => {
    expect([...(parseConfig(["--allowed-hosts", "Drones.Example, .fleet.example"]).allowedHosts as Set<string>)]).toEqual(["drones.example", ".fleet.example"]);
    expect(parseConfig([], { SKYPORT_ALLOWED_HOSTS: "*" }).allowedHosts).toBe("*");
    expect(parseConfig([]).allowedHosts).toEqual(new Set());
    expect(() => parseConfig(["--allowed-hosts", "drones.example:8080"])).toThrow(/host names without ports.*received "drones.example:8080"/);
    expect(() => parseConfig(["--allowed-hosts", "a,,b"])).toThrow(ConfigError);
  });

  test("the server warns at start, on stderr after the banner, when anyone may fly", async () => {
    const server = await spawnServer();
    await waitUntil(() => server.stderr.some((line) => line.includes("anyone who can connect may fly")), 5000, "the open-server warning");
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stderr[0]).toStartWith("skyport listening on");
  });
});

describe("--tls-cert and --tls-key", () => {
  test("both from flags or env; neither means plain http", () => {
    expect(parseConfig(["--tls-cert", "c.pem", "--tls-key", "k.pem"])).toMatchObject({ tlsCertFile: "c.pem", tlsKeyFile: "k.pem" });
    expect(parseConfig([], { SKYPORT_TLS_CERT: "/etc/c.pem", SKYPORT_TLS_KEY: "/etc/k.pem" })).toMatchObject({ tlsCertFile: "/etc/c.pem", tlsKeyFile: "/etc/k.pem" });
    expect(parseConfig([])).toMatchObject({ tlsCertFile: null, tlsKeyFile: null });
  });

  test("one without the other is refused, naming both", () => {
    expect(() => parseConfig(["--tls-cert", "c.pem"])).toThrow("--tls-cert needs --tls-key too: TLS takes a certificate and its private key: received only --tls-cert");
    expect(() => parseConfig([], { SKYPORT_TLS_KEY: "k.pem" })).toThrow("--tls-key needs --tls-cert too");
    expect(() => parseConfig(["--tls-cert", " "])).toThrow("--tls-cert must be a file path: received an empty value");
  });
});

describe("--mavlink", () => {
  test("NAME=tcp:HOST:PORT (or udpin:, udpout:), repeatable, each a vehicle beside the simulated drones", () => {
    expect(parseConfig(["--mavlink", "copter=tcp:127.0.0.1:5760", "--mavlink=hexa=tcp:[::1]:5770", "--mavlink", "quad=udpin:0.0.0.0:14550", "--mavlink", "tri=udpout:10.0.0.2:14555"]).mavlink).toEqual([
      { name: "copter", url: "tcp:127.0.0.1:5760", endpoint: { transport: "tcp", host: "127.0.0.1", port: 5760 }, systemId: 1, takeoffAltitudeMetres: 10, uploadFence: false },
      { name: "hexa", url: "tcp:[::1]:5770", endpoint: { transport: "tcp", host: "::1", port: 5770 }, systemId: 1, takeoffAltitudeMetres: 10, uploadFence: false },
      { name: "quad", url: "udpin:0.0.0.0:14550", endpoint: { transport: "udpin", host: "0.0.0.0", port: 14550 }, systemId: 1, takeoffAltitudeMetres: 10, uploadFence: false },
      { name: "tri", url: "udpout:10.0.0.2:14555", endpoint: { transport: "udpout", host: "10.0.0.2", port: 14555 }, systemId: 1, takeoffAltitudeMetres: 10, uploadFence: false },
    ]);
  });

  test("per vehicle: the autopilot's system id and the takeoff altitude; skyport's own GCS system id", () => {
    const config = parseConfig(["--mavlink", "copter=tcp:127.0.0.1:5760,sysid=7,takeoff-altitude=25", "--gcs-system-id", "254"]);
    expect(config.mavlink[0]).toMatchObject({ name: "copter", url: "tcp:127.0.0.1:5760", systemId: 7, takeoffAltitudeMetres: 25 });
    expect(config.gcsSystemId).toBe(254);
    expect(parseConfig([]).gcsSystemId).toBe(255);
    for (const [args, message] of [
      [["--mavlink", "copter=tcp:h:1,sysid=0"], "--mavlink copter: sysid must be a whole number from 1 to 255: received \"0\""],
      [["--mavlink", "copter=tcp:h:1,sysid=256"], '--mavlink copter: sysid must be a whole number from 1 to 255: received "256"'],
      [["--mavlink", "copter=tcp:h:1,takeoff-altitude=500"], "--mavlink copter: takeoff-altitude must be a number from 1 to 120"],
      [["--mavlink", "copter=tcp:h:1,speed=3"], '--mavlink copter: unknown option "speed": expected sysid, takeoff-altitude or fence'],
      [["--mavlink", "copter=tcp:h:1,fence=yes"], '--mavlink copter: fence must be upload (give the autopilot the --geofence-polygon too) or check (skyport checks its targets only): received "yes"'],
      [["--mavlink", "copter=tcp:h:1,fence=upload"], "--mavlink copter: fence=upload needs --geofence-polygon: there is no polygon to give the autopilot"],
      [["--mavlink", "copter=tcp:h:1,sysid"], "--mavlink copter: options after the URL are KEY=VALUE"],
      [["--gcs-system-id", "0"], "--gcs-system-id must be a whole number from 1 to 255"],
    ] as const) {
      expect(() => parseConfig([...args])).toThrow(message);
    }
  });

  test.each([
    [["--mavlink", "copter"], "--mavlink must be NAME=URL, e.g. copter=tcp:127.0.0.1:5760: received \"copter\""],
    [["--mavlink", "copter=127.0.0.1:5760"], "--mavlink copter: the URL must be tcp:HOST:PORT, udpin:HOST:PORT or udpout:HOST:PORT"],
    [["--mavlink", "copter=serial:/dev/ttyUSB0:57600"], "--mavlink copter: the URL must start with tcp:, udpin: or udpout:"],
    [["--mavlink", "copter=tcp:localhost"], "--mavlink copter: the URL must be tcp:HOST:PORT, udpin:HOST:PORT or udpout:HOST:PORT, e.g. tcp:127.0.0.1:5760: received \"tcp:localhost\""],
    [["--mavlink", "copter=tcp:localhost:70000"], "--mavlink copter: the URL the port must be from 1 to 65535"],
    [["--mavlink", "Copter=tcp:127.0.0.1:5760"], "--mavlink must name the vehicle with 1 to 32 lowercase letters"],
    [["--mavlink", "a=tcp:h:1", "--mavlink", "a=tcp:h:2"], "--mavlink names \"a\" twice"],
    [["--mavlink", "alpha=tcp:h:1"], "--mavlink names \"alpha\", already a simulated drone in --drones"],
  ])("%j is refused with one line naming the flag", (argv, message) => {
    expect(() => parseConfig(argv)).toThrow(ConfigError);
    expect(() => parseConfig(argv)).toThrow(message);
  });
});

describe("--config: a TOML file", () => {
  /** A real file in a fresh temporary folder. */
  function tomlFile(text: string): string {
    const dir = mkdtempSync(join(tmpdir(), "skyport-config-"));
    const path = join(dir, "skyport.toml");
    writeFileSync(path, text);
    return path;
  }

  const example = `# skyport.toml
addr = "127.0.0.1:9000"
drones = ["alpha", "bravo"]
home = "51.5,-0.12,20"
telemetry-hz = 20
trust-proxy = true
gcs-system-id = 254

[[vehicles]]
name = "copter"
url = "tcp:127.0.0.1:5760"

[[vehicles]]
name = "hexa"
url = "udpin:0.0.0.0:14550"
sysid = 2
takeoff-altitude = 15
`;

  test("every flag is a key, vehicles a list of tables; read with the same checks as the flags", () => {
    const config = parseConfig(["--config", tomlFile(example)]);
    expect(config).toMatchObject({ hostname: "127.0.0.1", port: 9000, drones: ["alpha", "bravo"], home: { lat: 51.5, lon: -0.12, altitudeMsl: 20 }, telemetryHz: 20, trustProxy: true, gcsSystemId: 254 });
    expect(config.mavlink).toEqual([
      { name: "copter", url: "tcp:127.0.0.1:5760", endpoint: { transport: "tcp", host: "127.0.0.1", port: 5760 }, systemId: 1, takeoffAltitudeMetres: 10, uploadFence: false },
      { name: "hexa", url: "udpin:0.0.0.0:14550", endpoint: { transport: "udpin", host: "0.0.0.0", port: 14550 }, systemId: 2, takeoffAltitudeMetres: 15, uploadFence: false },
    ]);
    expect(parseConfig([], { SKYPORT_CONFIG: tomlFile('drones = "zulu"') }).drones).toEqual(["zulu"]);
  });

  test("env overrides the file and flags override both; a --mavlink flag replaces the file's vehicles", () => {
    const path = tomlFile(example);
    expect(parseConfig(["--config", path], { SKYPORT_TELEMETRY_HZ: "5" }).telemetryHz).toBe(5);
    expect(parseConfig(["--config", path, "--telemetry-hz", "50"], { SKYPORT_TELEMETRY_HZ: "5" }).telemetryHz).toBe(50);
    expect(parseConfig(["--telemetry-hz", "50", "--config", path]).telemetryHz).toBe(50);
    expect(parseConfig(["--config", path, "--mavlink", "solo=tcp:10.0.0.9:5760"]).mavlink.map((v) => v.name)).toEqual(["solo"]);
  });

  test("a missing file, bad TOML, an unknown key, a wrong value or type: one line naming the file and the key", () => {
    expect(() => parseConfig(["--config", "/nonexistent/skyport.toml"])).toThrow(/^--config \/nonexistent\/skyport\.toml: cannot read the file: /);
    expect(() => parseConfig(["--config", tomlFile("telemetry-hz = ")])).toThrow(/: not valid TOML: /);
    const unknown = tomlFile("telemetry_hz = 20");
    expect(() => parseConfig(["--config", unknown])).toThrow(`${unknown}: telemetry_hz: unknown key: keys are the flag names without dashes (telemetry-hz, drones, mavlink...) and vehicles`);
    const tooFast = tomlFile("telemetry-hz = 500");
    expect(() => parseConfig(["--config", tooFast])).toThrow(`${tooFast}: telemetry-hz must be a number from 1 to 100: received "500"`);
    const table = tomlFile("[redis]\nurl = 'redis://x'");
    expect(() => parseConfig(["--config", table])).toThrow(`${table}: redis: must be a string, number, boolean or a list of them: received a table`);
    const badVehicle = tomlFile('[[vehicles]]\nname = "copter"');
    expect(() => parseConfig(["--config", badVehicle])).toThrow(`${badVehicle}: vehicles[0]: needs name and url strings`);
    const badUrl = tomlFile('[[vehicles]]\nname = "copter"\nurl = "serial:/dev/ttyUSB0"');
    expect(() => parseConfig(["--config", badUrl])).toThrow(`${badUrl}: vehicles[0] copter: the URL must be tcp:HOST:PORT`);
    expect(() => parseConfig(["--config", tomlFile('config = "other.toml"')])).toThrow(/config: unknown key/);
  });

  test("TLS and the proxy settings from a file (as deploy/skyport.service may use)", () => {
    const config = parseConfig(["--config", tomlFile('tls-cert = "/etc/skyport/tls/fullchain.pem"\ntls-key = "/etc/skyport/tls/privkey.pem"\ntrust-proxy = true\n')]);
    expect(config).toMatchObject({ tlsCertFile: "/etc/skyport/tls/fullchain.pem", tlsKeyFile: "/etc/skyport/tls/privkey.pem", trustProxy: true });
    expect(() => parseConfig(["--config", tomlFile('tls-cert = "/etc/c.pem"\n')])).toThrow("--tls-cert needs --tls-key too");
  });

  test("the server starts from a file", async () => {
    const proc = Bun.spawn([process.execPath, "run", join(repoRoot, "server.ts"), "--config", tomlFile('addr = "127.0.0.1:0"\ndrones = "kilo,lima"\n')], { stdout: "pipe", stderr: "pipe" });
    try {
      const reader = proc.stdout.getReader();
      let out = "";
      while (!/127\.0\.0\.1:\d+/.test(out)) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)![1]);
      const welcome = await new Promise<{ data: { drones: Array<{ id: string }> } }>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/drone`);
        ws.onmessage = (event) => {
          resolve(JSON.parse(String(event.data)));
          ws.close();
        };
        ws.onerror = () => reject(new Error("socket failed"));
      });
      expect(welcome.data.drones.map((drone) => drone.id)).toEqual(["kilo", "lima"]);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });
});

test("README's TOML example is a valid configuration", async () => {
  const readme = await Bun.file(join(repoRoot, "README.md")).text();
  const example = /```toml\n([\s\S]*?)```/.exec(readme)![1]!;
  const dir = mkdtempSync(join(tmpdir(), "skyport-readme-"));
  writeFileSync(join(dir, "skyport.toml"), example);
  const config = parseConfig(["--config", join(dir, "skyport.toml")]);
  expect(config).toMatchObject({ hostname: "0.0.0.0", port: 8080, drones: ["alpha", "bravo"], telemetryHz: 10 });
  expect(config.mavlink.map((vehicle) => [vehicle.name, vehicle.url, vehicle.systemId, vehicle.takeoffAltitudeMetres])).toEqual([["copter", "tcp:127.0.0.1:5760", 1, 10]]);
});

describe("--geofence-polygon", () => {
  const home = defaultConfig.home;
  /** A square `half` metres either side of (x0, y0) from home, as GeoJSON [lon, lat] corners, closed. */
  function square(half: number, x0 = 0, y0 = 0): number[][] {
    const metresPerDegree = (6_378_137 * Math.PI) / 180;
    const at = (x: number, y: number) => [home.lon + x / (metresPerDegree * Math.cos((home.lat * Math.PI) / 180)), home.lat + y / metresPerDegree];
    const ring = [at(x0 - half, y0 - half), at(x0 + half, y0 - half), at(x0 + half, y0 + half), at(x0 - half, y0 + half)];
    return [...ring, ring[0]!];
  }
  const parse = (text: string, argv: string[] = []) => parseConfig(["--geofence-polygon", "field.geojson", ...argv], {}, () => text);

  test("reads a GeoJSON FeatureCollection's Polygon (closing corner dropped), a bare Polygon, or a QGroundControl plan's inclusion fence", () => {
    const ring = square(100);
    const collection = { type: "FeatureCollection", features: [{ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [ring] } }] };
    const config = parse(JSON.stringify(collection));
    expect(config.geofencePolygon).toEqual(ring.slice(0, 4).map(([lon, lat]) => ({ lat: lat!, lon: lon! })));
    expect(parse(JSON.stringify({ type: "Polygon", coordinates: [ring] })).geofencePolygon).toEqual(config.geofencePolygon);
    const plan = { fileType: "Plan", version: 1, geoFence: { version: 2, circles: [], polygons: [{ inclusion: true, version: 1, polygon: ring.slice(0, 4).map(([lon, lat]) => [lat, lon]) }] } };
    expect(parse(JSON.stringify(plan)).geofencePolygon).toEqual(config.geofencePolygon);
    expect(parseConfig([], {}).geofencePolygon).toBeNull();
  });

  test("refuses a file it cannot use, saying why", () => {
    const refusal = (text: string) => () => parse(text);
    expect(refusal("{not json")).toThrow(/^--geofence-polygon field\.geojson: not JSON/);
    expect(refusal(JSON.stringify({ type: "Point", coordinates: [0, 0] }))).toThrow('--geofence-polygon field.geojson: expected a GeoJSON Polygon, a Feature or a FeatureCollection holding one, or a QGroundControl .plan: received type "Point"');
    expect(refusal(JSON.stringify({ type: "Polygon", coordinates: [square(100), square(10)] }))).toThrow("the Polygon has 1 hole(s): a geofence polygon is one outer ring, without holes");
    expect(refusal(JSON.stringify({ type: "Polygon", coordinates: [[[0, 0], [1, 1]]] }))).toThrow("a geofence polygon needs at least 3 corners: received 2");
    expect(refusal(JSON.stringify({ type: "Polygon", coordinates: [[[149, -35], [149, 95], [150, -35]]] }))).toThrow("corner 2: latitude must be a number from -89 to 89 degrees: received 95");
    const [a, b, c, d] = square(100);
    expect(refusal(JSON.stringify({ type: "Polygon", coordinates: [[a, c, b, d, a]] }))).toThrow("the geofence polygon crosses itself");
    expect(refusal(JSON.stringify({ type: "FeatureCollection", features: [] }))).toThrow("a FeatureCollection must hold exactly one Polygon feature (the geofence): it holds 0");
    expect(refusal(JSON.stringify({ type: "Polygon", coordinates: [square(50, 300, 300)] }))).toThrow(`the simulated drones' home (--home ${home.lat},${home.lon}) is outside the polygon`);
    expect(() => parseConfig(["--geofence-polygon", "/nonexistent/field.geojson"])).toThrow(/^--geofence-polygon \/nonexistent\/field\.geojson: cannot read it/);
    expect(() => parse("{}")).toThrow(ConfigError);
  });
});
