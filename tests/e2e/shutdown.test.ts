/** Graceful shutdown of a real server.ts process on SIGTERM and SIGINT. */
import { expect, test } from "bun:test";
import { spawnServer } from "../support/server.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { Inbox, openSocket, waitUntil } from "../support/sockets.ts";

test.each(["SIGTERM", "SIGINT"] as const)(
  "%s closes connected clients with 1001 and the process exits 0 within 5 s",
  async (signal) => {
    const server = await spawnServer();
    const clients = await Promise.all([openSocket(server.ws("/echo")), openSocket(server.ws("/echo"))]);
    const inboxes = clients.map((ws) => new Inbox(ws));
    clients[0]!.send("still here");
    expect(await inboxes[0]!.next()).toBe("still here");

    const started = performance.now();
    server.proc.kill(signal);
    for (const inbox of inboxes) {
      const closed = await inbox.waitClose(5000);
      expect(closed.code).toBe(1001);
      expect(closed.reason).toBe("server shutting down");
    }
    expect(await server.exited).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
    // The listener is gone: new connections are refused.
    await expect(fetch(server.http("/healthz"))).rejects.toThrow();
  },
);

test("the startup banner names the page and every WebSocket endpoint, on stderr; stdout is JSON lines only", async () => {
  const server = await spawnServer();
  const banner = server.stderr.join("\n");
  expect(banner).toContain(`http://127.0.0.1:${server.port}/`);
  expect(banner).toContain(`ws://127.0.0.1:${server.port}/echo`);
  await waitUntil(() => server.output.length > 0, 5000, "the first log line on stdout");
  for (const line of server.output) expect(() => JSON.parse(line)).not.toThrow();
  expect(JSON.parse(server.output[0]!)).toMatchObject({ event: "listening", port: server.port });
  server.proc.kill("SIGTERM");
  expect(await server.exited).toBe(0);
});

test("SIGTERM drains: a flying drone is told to hover before its pilot is closed with 1001", async () => {
  const server = await spawnServer();
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  await pilot.request("claim", { drone: "alpha" });
  await pilot.request("command", { drone: "alpha", name: "takeoff" }, "up");
  await pilot.done("up", 5000);
  await pilot.request("command", { drone: "alpha", name: "forward", args: [100] }, "far");
  await pilot.waitTelemetry((frames) => frames.at(-1)?.state === "moving");

  server.proc.kill("SIGTERM");
  expect(await pilot.done("far")).toMatchObject({ data: { status: "failed", reason: "superseded by hover" } });
  expect((await pilot.take((m) => m.type === "event")).data).toMatchObject({ kind: "failsafe", action: "hover" });
  const closed = await pilot.waitClose(5000);
  expect(closed).toEqual({ code: 1001, reason: "server shutting down" });
  expect(await server.exited).toBe(0);
  const refused = await fetch(server.http("/drone")).catch((error: Error) => error);
  expect(refused).toBeInstanceOf(Error);
});
