/**
 * Issue 14 with real processes: the CLI's `token` command mints a token a
 * real server accepts, and a real `server.ts` rotates its JWT keys on
 * SIGHUP without a restart (a bad file keeps the keys in use), and refuses
 * to start on an unusable key file with one line naming the flag.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DroneTestClient } from "../support/drone-client.ts";
import { signWith, testKeyPair, testSecret } from "../support/jwt.ts";
import { repoRoot, spawnServer, startTestServer, type ServerProcess } from "../support/server.ts";
import { openSocket, waitUntil } from "../support/sockets.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempFile(contents: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "skyport-jwks-")), "jwks.json");
  await writeFile(path, contents);
  return path;
}

/** Signs in on `/drone` with `hello`: the welcome, or the error that refused it. */
async function hello(url: string, token: string): Promise<{ client: DroneTestClient; reply: any }> {
  const client = DroneTestClient.wrap(await openSocket(url));
  cleanups.push(() => client.close());
  const reply = await client.request("hello", { token });
  return { client, reply };
}

test("cli token mints an HS256 token the server takes: its sub flies alpha, its scope allows nothing more", async () => {
  const server = startTestServer({ drones: ["alpha", "bravo"], jwtSecret: testSecret });
  cleanups.push(() => server.stop());
  const proc = Bun.spawn([process.execPath, "run", join(repoRoot, "client", "cli", "cli.ts"), "token", "--sub", "alice", "--name", "Alice", "--scope", "fly:alpha view:*", "--ttl", "1h"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, SKYPORT_JWT_SECRET: testSecret },
  });
  expect(await proc.exited).toBe(0);
  const token = (await new Response(proc.stdout).text()).trim();
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  const { client, reply } = await hello(server.ws("/drone"), token);
  expect(reply).toMatchObject({ type: "ack" });
  await client.welcomed();
  expect(await client.request("claim", { drone: "alpha" })).toMatchObject({ type: "ack", data: { role: "pilot" } });
  expect((await client.take((m) => m?.type === "lease")).data).toMatchObject({ pilotUser: "alice", pilotName: "Alice" });
  expect(await client.request("claim", { drone: "bravo" })).toMatchObject({ type: "error", data: { code: "forbidden" } });
}, 20_000);

test("SIGHUP rotates the keys without a restart; a bad file keeps the keys in use", async () => {
  const [first, second] = await Promise.all([testKeyPair("ES256", "2026-01"), testKeyPair("EdDSA", "2026-02")]);
  const jwks = await tempFile(JSON.stringify({ keys: [first.jwk] }));
  const server: ServerProcess = await spawnServer(["--jwt-keys", jwks]);
  cleanups.push(() => server.proc.kill("SIGKILL"));
  const exp = Math.floor(Date.now() / 1000) + 600;
  const claims = { sub: "alice", scope: "view:*", exp };
  expect((await hello(server.ws("/drone"), await signWith(first, claims))).reply).toMatchObject({ type: "ack" });
  expect((await hello(server.ws("/drone"), await signWith(second, claims))).reply).toMatchObject({ type: "error", data: { reason: "unknown_key" } });

  await writeFile(jwks, JSON.stringify({ keys: [first.jwk, second.jwk] }));
  server.proc.kill("SIGHUP");
  await waitUntil(() => server.output.some((line) => line.includes('"jwt_keys_reloaded"')), 5000, "the reload's log line");
  expect((await hello(server.ws("/drone"), await signWith(second, claims))).reply).toMatchObject({ type: "ack" });

  await writeFile(jwks, "{ not json");
  server.proc.kill("SIGHUP");
  // warn and error log lines go to stderr, which the harness collects line by line.
  await waitUntil(() => server.stderr.some((line) => line.includes("jwt_keys_reload_failed")), 5000, "the failed reload's log line");
  expect(server.stderr.find((line) => line.includes("jwt_keys_reload_failed"))).toContain("kept the keys in use: is not valid JSON");
  expect((await hello(server.ws("/drone"), await signWith(second, claims))).reply).toMatchObject({ type: "ack" });
  expect(server.proc.exitCode).toBeNull();
}, 30_000);

test("an unusable key file or a short secret stops the start with one line naming the flag", async () => {
  const run = async (...args: string[]) => {
    const proc = Bun.spawn([process.execPath, "run", join(repoRoot, "server.ts"), "--addr", "127.0.0.1:0", ...args], { stdout: "pipe", stderr: "pipe" });
    return { code: await proc.exited, stderr: await new Response(proc.stderr).text() };
  };
  const missing = await run("--jwt-keys", "/nonexistent/keys.json");
  expect(missing.code).toBe(2);
  expect(missing.stderr.trim()).toBe("skyport: --jwt-keys /nonexistent/keys.json cannot be read (ENOENT)");
  const short = await run("--jwt-secret", "too-short");
  expect(short.code).toBe(2);
  expect(short.stderr.split("\n")[0]).toBe("skyport: --jwt-secret must be at least 32 bytes (256 bits, RFC 7518 3.2): received 9");
}, 20_000);
