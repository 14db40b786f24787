/**
 * The docs' examples against a real server, so they cannot drift (issue 16):
 *
 * - every client JSON message in README.md and docs/*.md, sent in the
 *   order written, one socket per file, as a pilot would (each command's
 *   completion awaited on the simulation's clock before the next), on a
 *   server with identities after a `hello` with an admin's token (the
 *   examples include an admin's forced claim; a `hello`'s token in the docs
 *   stands for a real one, so that admin's is sent in its place): each must be answered without
 *   an error, unless the doc shows the error right after it (same id), which
 *   must then be the one the server sends; the server records into a
 *   store holding one flight, `alpha-1767225600000`, so the replay examples
 *   play it;
 * - every `client/cli/cli.ts` command line in README.md, run as written
 *   against a real server (`--url` added): `send` must exit 0, `token` must
 *   print a token (with the secret in its environment), the others must
 *   print and exit 0 on Ctrl-C.
 *
 * Server command lines that need Redis or a SITL autopilot (docs/scaling.md,
 * docs/vehicles.md) run in their own e2e tests, not here. The JSON examples'
 * shapes are also checked without a server by tests/unit/protocol-docs.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { join } from "node:path";
import { cliRunner } from "../support/cli.ts";
import { jsonExamplesIn } from "../support/doc-json.ts";
import { signHs256, testSecret } from "../support/jwt.ts";
import { repoRoot, startSimServer, startTestServer } from "../support/server.ts";
import { Inbox, openSocket, waitUntil } from "../support/sockets.ts";
import { flightRow, frameRow, tempDataDir } from "../support/recorder.ts";
import { openSqliteStore } from "../../src/runtime/recorder/sqlite-store.ts";
import { emptyBatch } from "../../src/runtime/recorder/store.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const clientTypes = new Set(["command", "subscribe", "unsubscribe", "claim", "release", "ping", "hello", "replay_start", "replay_control", "replay_stop"]);
/** The recorded flight the docs' replay examples play: alpha's, a minute long, starting when the test server's wall clock does. */
const docsFlight = { id: "alpha-1767225600000", drone: "alpha", startedAt: Date.UTC(2026, 0, 1) };

/** A store holding the docs' recorded flight, a frame a second; removed after the test. */
async function storeWithDocsFlight() {
  const dir = tempDataDir();
  cleanups.push(() => dir.remove());
  const store = openSqliteStore(dir.path);
  const batch = emptyBatch();
  batch.flights.push(flightRow(docsFlight.id, docsFlight.drone, docsFlight.startedAt));
  for (let second = 0; second <= 60; second++) batch.frames.push(frameRow(docsFlight.drone, second, docsFlight.startedAt + second * 1000, docsFlight.id));
  await store.write(batch);
  return store;
}
const docFiles = ["README.md", ...[...new Glob("docs/*.md").scanSync(repoRoot)].sort()];

type Message = { type: string; id?: string | number; data?: { code?: string } & Record<string, unknown> };

/** The JSON values of a file's ```json blocks, in order. */
async function jsonExamples(file: string): Promise<Message[]> {
  return jsonExamplesIn(await Bun.file(join(repoRoot, file)).text()).map((text) => JSON.parse(text) as Message);
}

describe("every client JSON example, sent to a real server", () => {
  for (const file of docFiles) {
    test(file, async () => {
      const examples = await jsonExamples(file);
      const sent = examples.map((message, index) => ({ message, index })).filter(({ message }) => clientTypes.has(message.type));
      if (sent.length === 0) return;
      // Kept for as long as the settings allow: the docs' flight is of the test server's clock, not today's.
      const server = startSimServer({ jwtSecret: testSecret, retentionDays: 36_500 }, { recording: { store: await storeWithDocsFlight(), recovery: [] } });
      cleanups.push(() => server.stop());
      const ws = await openSocket(server.ws("/drone"), "skyport.v1.json");
      const admin = await signHs256({ sub: "docs", name: "Docs", scope: "admin view:* fly:*", exp: Math.floor(Date.now() / 1000) + 600 });
      ws.send(JSON.stringify({ type: "hello", id: "docs-hello", data: { token: admin } }));
      cleanups.push(() => ws.close());
      const inbox = new Inbox(ws);
      const heard: Message[] = [];
      /** The next message with `id` (telemetry, events and leases in between are kept aside). */
      const replyTo = async (id: Message["id"], type?: string): Promise<Message> => {
        for (;;) {
          const found = heard.findIndex((message) => message.id === id && (type === undefined || message.type === type));
          if (found !== -1) return heard.splice(found, 1)[0]!;
          heard.push(await inbox.nextJson<Message>());
        }
      };
      expect((await replyTo("docs-hello")).type).toBe("ack");
      expect((await replyTo(undefined, "welcome")).type).toBe("welcome");
      for (const { message, index } of sent) {
        const real = message.type === "hello" && message.data?.token !== undefined ? { ...message, data: { ...message.data, token: admin } } : message;
        ws.send(JSON.stringify(real));
        const shown = examples[index + 1];
        const expectedError = shown?.type === "error" && shown.id === message.id ? shown.data?.code : undefined;
        const reply = await replyTo(message.id);
        const what = `${file}: ${JSON.stringify(message)}`;
        if (expectedError !== undefined) {
          expect({ what, reply: reply.type, code: reply.data?.code }).toEqual({ what, reply: "error", code: expectedError });
          continue;
        }
        expect({ what, reply: reply.type, error: reply.type === "error" ? reply.data : undefined }).toEqual({ what, reply: message.type === "ping" ? "pong" : "ack", error: undefined });
        if (message.type !== "command") continue;
        // As a pilot would: wait for the command to complete before the next one (the simulation's clock, not the test's).
        let done: Message | undefined;
        for (let step = 0; step < 600 && done === undefined; step++) {
          server.advance(0.5);
          await Bun.sleep(1);
          while (inbox.pending > 0) heard.push(await inbox.nextJson<Message>());
          const found = heard.findIndex((candidate) => candidate.type === "done" && candidate.id === message.id);
          if (found !== -1) done = heard.splice(found, 1)[0];
        }
        expect({ what, done: done?.data?.status }).toEqual({ what, done: "completed" });
      }
    }, 30_000);
  }
});

/** A shell line's words, with "double" and 'single' quotes. */
function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3]!);
}

describe("every CLI command line in README.md, run against a real server", async () => {
  const readme = await Bun.file(join(repoRoot, "README.md")).text();
  // The client's commands as README shows them: `npx skyport <command>` (serve is the server, not a client command).
  const lines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => block[1]!.split("\n")).filter((line) => /^npx skyport (echo|watch|fly|send|token)\b/.test(line));
  test("README shows the CLI commands", () => {
    expect(lines.length).toBeGreaterThanOrEqual(4);
  });
  for (const line of lines) {
    test(line, async () => {
      const words = shellWords(line.replace(/#.*$/, ""));
      expect(words.slice(0, 2)).toEqual(["npx", "skyport"]);
      const [command, ...rest] = words.slice(2);
      const { cli } = cliRunner(cleanups, { SKYPORT_TOKEN: "", SKYPORT_PILOT_TOKEN: "", SKYPORT_JWT_SECRET: testSecret });
      if (command === "token") {
        const { proc, stdout, stderr } = cli(command, ...rest);
        expect({ line, code: await proc.exited, stderr: stderr.text }).toEqual({ line, code: 0, stderr: "" });
        await Bun.sleep(0);
        expect(stdout.text.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
        return;
      }
      const running = startTestServer();
      cleanups.push(() => running.stop());
      const { proc, stdout, stderr } = cli(command!, "--url", running.ws(command === "echo" ? "/echo" : "/drone"), ...rest);
      if (command === "send") {
        const code = await Promise.race([proc.exited, Bun.sleep(25_000).then(() => -1)]);
        expect({ line, code, stderr: stderr.text }).toEqual({ line, code: 0, stderr: "" });
        expect(stdout.text).toMatch(/^done land completed/m);
        return;
      }
      await waitUntil(() => stdout.text.trim() !== "", 10_000, `${command} printed nothing`);
      proc.kill("SIGINT");
      expect({ line, code: await proc.exited }).toEqual({ line, code: 0 });
      expect(stderr.text).not.toMatch(/error|cannot|refused|unknown/i);
    }, 30_000);
  }
});
