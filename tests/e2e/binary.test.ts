/**
 * The single executable (`npm run build` → dist/skyport), run the way an
 * operator runs it: copied into an empty folder and started with neither
 * Node nor Bun on PATH. Serves the embedded page and its assets, /echo and
 * /drone, flies with its own `send` command (over wss too, with TLS), runs
 * `--workers` (each worker is the executable itself), and drains on SIGTERM. Prints its size and its
 * time to the banner.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DroneTestClient } from "../support/drone-client.ts";
import { makeTestPki } from "../support/interop.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { repoRoot, spawnServerCommand, type ServerProcess } from "../support/server.ts";
import { Inbox, openSocket } from "../support/sockets.ts";

/** Building takes a second or two; the first build on a machine a little longer. */
const buildTimeoutMs = 120_000;

let folder: string;
let binary: string;
/** PATH with nothing on it: no node, no bun, no npm. */
let clean: Record<string, string>;
const started: ServerProcess[] = [];
let redis: RedisServer | null = null;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "skyport-binary-"));
  const built = join(folder, "built");
  const build = spawn([process.execPath, join(repoRoot, "scripts/build-binary.ts"), "--outfile", built], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`build-binary failed (exit ${code}):\n${stdout}\n${stderr}`);
  binary = join(folder, "skyport");
  copyFileSync(built, binary);
  rmSync(built);
  clean = { PATH: join(folder, "empty-path"), HOME: folder };
}, buildTimeoutMs);

afterAll(async () => {
  for (const server of started) server.proc.kill("SIGKILL");
  await redis?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/**
 * Starts `skyport serve` from the binary in the empty folder, with a clean
 * environment and a recorder database of its own (a shared one would carry
 * one test's flying drones into the next: restart recovery).
 */
async function serveFromBinary(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = join(folder, `data-${started.length}`);
  const server = await spawnServerCommand([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, ...args], 30_000, { cwd: folder, env: { ...clean, ...env } });
  started.push(server);
  return server;
}

describe("dist/skyport with no Node or Bun on PATH", () => {
  test("--version and --help answer; size and start time are reported", async () => {
    const version = spawn([binary, "--version"], { cwd: folder, env: clean, stdout: "pipe" });
    expect(await new Response(version.stdout).text()).toMatch(/^skyport \d+\.\d+\.\d+ \(protocol \d+, bun \d+\.\d+\.\d+\)\n$/);
    const help = spawn([binary, "serve", "--help"], { cwd: folder, env: clean, stdout: "pipe" });
    expect(await new Response(help.stdout).text()).toStartWith("usage: skyport serve [flags]");
    const t0 = performance.now();
    const server = await serveFromBinary([]);
    const startMs = performance.now() - t0;
    const mebibytes = statSync(binary).size / 1024 / 1024;
    console.log(`dist/skyport: ${mebibytes.toFixed(1)} MiB, ${startMs.toFixed(0)} ms from exec to banner`);
    expect(mebibytes).toBeLessThan(200);
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 40_000);

  test("serves the embedded page and its assets, /echo and /drone, records (its SQLite thread runs), flies with its own send, and drains on SIGTERM", async () => {
    const server = await serveFromBinary(["--drones", "alpha,bravo"]);
    const page = await fetch(server.http("/"));
    expect(page.status).toBe(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect(`${asset} ${(await fetch(server.http(asset))).status}`).toBe(`${asset} 200`);

    const echo = await openSocket(server.ws("/echo"));
    const inbox = new Inbox(echo);
    echo.send("from the binary");
    expect(await inbox.next()).toBe("from the binary");

    const pilot = await DroneTestClient.connect(server.ws("/drone"));
    await pilot.request("claim", { drone: "alpha" });
    await pilot.request("command", { drone: "alpha", name: "takeoff" }, "up");
    expect(await pilot.done("up", 10_000)).toMatchObject({ data: { status: "completed" } });

    const send = spawn([binary, "send", "--url", server.ws("/drone"), "--drone", "bravo", "--wait", "takeoff", "land"], { cwd: folder, env: clean, stdout: "pipe", stderr: "pipe" });
    const [sent, sendErrors, sendCode] = await Promise.all([new Response(send.stdout).text(), new Response(send.stderr).text(), send.exited]);
    expect(`${sendCode} ${sendErrors}`).toBe("0 ");
    expect(sent).toContain("land");

    // The recorder's database thread is a compiled-in worker: the flight it wrote is served back.
    let flights = "";
    for (let polls = 0; polls < 50 && !flights.includes('"alpha"'); polls++) {
      if (polls > 0) await Bun.sleep(100); // the recorder writes in batches: poll, bounded to 5 s
      flights = await (await fetch(server.http("/api/flights"))).text();
    }
    expect(flights).toContain('"drone":"alpha"');

    server.proc.kill("SIGTERM");
    expect(await inbox.waitClose(5000)).toMatchObject({ code: 1001 });
    expect(await server.exited).toBe(0);
    pilot.close();
  }, 60_000);

  test("TLS from the binary: https and wss on one port, and its own send flies over wss trusting the CA", async () => {
    const pki = await makeTestPki();
    const { certFile, keyFile } = await pki.issue("binary");
    const server = await serveFromBinary(["--drones", "alpha", "--tls-cert", certFile, "--tls-key", keyFile]);
    const https = `https://127.0.0.1:${server.port}`;
    expect((await fetch(`${https}/healthz`, { tls: { ca: readFileSync(pki.caFile, "utf8") } })).status).toBe(200);
    const send = spawn([binary, "send", "--url", `wss://127.0.0.1:${server.port}/drone`, "--wait", "takeoff", "land"], {
      cwd: folder,
      env: { ...clean, NODE_EXTRA_CA_CERTS: pki.caFile },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [sent, errors, code] = await Promise.all([new Response(send.stdout).text(), new Response(send.stderr).text(), send.exited]);
    expect(`${code} ${errors}`).toBe("0 ");
    expect(sent).toContain("land");
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 40_000);

  test("--workers 2: the supervisor runs the executable itself twice; both answer; SIGTERM stops all", async () => {
    redis = await startRedis();
    const server = await serveFromBinary(["--workers", "2", "--redis", redis.url, "--node-id", "bin"]);
    const workersLine = server.stderr.find((line) => line.startsWith("  workers "));
    const pids = /pids ([\d, ]+) \(/.exec(workersLine ?? "")?.[1]?.split(", ").map(Number) ?? [];
    expect(pids.length).toBe(2);
    for (const pid of pids) expect((await Bun.file(`/proc/${pid}/cmdline`).text()).split("\0")[0]).toBe(binary);
    const answered = new Set<number>();
    for (let i = 0; i < 200 && answered.size < 2; i++) {
      const health = (await (await fetch(server.http("/healthz"), { headers: { Connection: "close" } })).json()) as { pid: number };
      answered.add(health.pid);
    }
    expect([...answered].sort()).toEqual([...pids].sort());
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 60_000);
});
