/**
 * RunningServer.stop() in-process: it awaits Bun's server.stop(), which
 * resolves once every connection closed, raced against the grace period. The
 * process-level behaviour (signals, exit 0) is tests/e2e/shutdown.test.ts.
 */
import { expect, test } from "bun:test";
import { closeCodeOf, rawConnect } from "../support/raw.ts";
import { startSimServer } from "../support/server.ts";
import { Inbox, openSocket } from "../support/sockets.ts";

/** app.ts's shutdownGraceMilliseconds. */
const graceMs = 2000;

test("clients that answer the close handshake let stop() resolve well before the grace period", async () => {
  const server = startSimServer();
  const sockets = await Promise.all([openSocket(server.ws("/echo")), openSocket(server.ws("/drone"))]);
  const inboxes = sockets.map((ws) => new Inbox(ws));
  const started = performance.now();
  await server.stop();
  expect(performance.now() - started).toBeLessThan(graceMs / 2);
  for (const inbox of inboxes) expect(await inbox.waitClose()).toEqual({ code: 1001, reason: "server shutting down" });
  expect(server.connections.size).toBe(0);
  await expect(fetch(server.http("/healthz"))).rejects.toThrow();
});

test("a client that never answers the close frame does not hold stop() up: Bun ends its connection", async () => {
  const server = startSimServer();
  const silent = await rawConnect(server.port, { path: "/echo" });
  expect(silent.status).toBe(101);
  const started = performance.now();
  const stopped = server.stop();
  expect(closeCodeOf(await silent.nextFrame())).toBe(1001);
  // The client says nothing back: the server ends the TCP connection anyway, and stop() needs no grace.
  await Promise.all([stopped, silent.ended]);
  expect(performance.now() - started).toBeLessThan(graceMs);
  // Calling it again is safe and resolves at once.
  await server.stop();
});
