/**
 * Idle timeout with server pings: a peer that answers pings stays connected
 * through silence; one that answers nothing is closed. Bun's smallest
 * timeout is 8 s, so this test takes real seconds (bounded at 25).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { opcodes } from "../support/frames.ts";
import { rawConnect } from "../support/raw.ts";
import { startTestServer } from "../support/server.ts";
import { Inbox, openSocket } from "../support/sockets.ts";

/** Bun rounds timeouts of 1 to 7 s up to 8 s. */
const idleTimeoutSeconds = 8;
let server: ReturnType<typeof startTestServer>;
beforeAll(() => {
  server = startTestServer({ idleTimeoutSeconds });
});
afterAll(async () => {
  await server.stop();
});

test("a silent peer is pinged; one that never answers is closed, one that answers stays", async () => {
  const deaf = await rawConnect(server.port, { path: "/echo" });
  expect(deaf.status).toBe(101);
  const polite = await openSocket(server.ws("/echo")); // the standard client answers pings with pongs
  const politeInbox = new Inbox(polite);
  const started = performance.now();

  const ping = await deaf.nextFrame((idleTimeoutSeconds + 4) * 1000);
  expect(ping.opcode).toBe(opcodes.ping);
  await Promise.race([deaf.ended, Bun.sleep((idleTimeoutSeconds * 2 + 4) * 1000).then(() => Promise.reject(new Error("deaf peer not closed")))]);
  const closedAfter = (performance.now() - started) / 1000;
  expect(closedAfter).toBeGreaterThanOrEqual(idleTimeoutSeconds - 1);

  expect(politeInbox.closed).toBeNull();
  polite.send("still here");
  expect(await politeInbox.next()).toBe("still here");
  polite.close();
}, 30_000);
