/** The real CLI `echo` subcommand against a real server. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { repoRoot, startTestServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

let server: ReturnType<typeof startTestServer>;
beforeAll(() => {
  server = startTestServer();
});
afterAll(async () => {
  await server.stop();
});

function cli(...args: string[]) {
  return Bun.spawn([process.execPath, "run", join(repoRoot, "client", "cli", "cli.ts"), ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Collects a stream's text as it arrives. */
function collect(stream: ReadableStream<Uint8Array>): { text: string } {
  const sink = { text: "" };
  (async () => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) sink.text += decoder.decode(read.value);
  })();
  return sink;
}

test("echo prints each echo and exits 0 on SIGINT after a clean 1000 close", async () => {
  const proc = cli("echo", "--url", server.ws("/echo"));
  const stdout = collect(proc.stdout);
  await waitUntil(() => (stdout.text.match(/^recv: /gm) ?? []).length >= 2, 5000, "two echoes");
  const lines = stdout.text.trim().split("\n");
  for (const line of lines) expect(line).toMatch(/^recv: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  proc.kill("SIGINT");
  expect(await proc.exited).toBe(0);
  await waitUntil(() => server.logger.lines.some((line) => line.event === "ws_close" && line.code === 1000), 2000, "server saw close 1000");
  const closeLine = server.logger.lines.find((line) => line.event === "ws_close")!;
  expect(closeLine.messagesIn).toBeGreaterThanOrEqual(2);
});

test("an unreachable server gives one clear error line and exit 1", async () => {
  const unused = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = unused.port;
  unused.stop(true);
  const proc = cli("echo", "--url", `ws://127.0.0.1:${port}/echo`);
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(code).toBe(1);
  expect(stderr.trim().split("\n")).toEqual([`skyport echo: cannot connect to ws://127.0.0.1:${port}/echo: is the server running?`]);
});

test("a bad --url is a usage error (exit 2) naming the flag", async () => {
  const proc = cli("echo", "--url", "http://example.invalid");
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(code).toBe(2);
  expect(stderr).toContain("--url must be a ws:// or wss:// URL");
});

test("--help prints the subcommand's usage", async () => {
  const proc = cli("echo", "--help");
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stdout).text()).toContain("usage: skyport echo");
});
