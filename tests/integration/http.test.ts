/** Plain HTTP behaviour: the page, health, and clear errors for client mistakes. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { startTestServer } from "../support/server.ts";
import { Inbox, openSocket, waitUntil } from "../support/sockets.ts";

let server: ReturnType<typeof startTestServer>;
beforeAll(() => {
  server = startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe("HTTP routes", () => {
  test("GET / serves the bundled page", async () => {
    const response = await fetch(server.http("/"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(await response.text()).toMatch(/<title>skyport\b/);
  });

  test("GET /echo without an upgrade is 426 Upgrade Required with Upgrade: websocket", async () => {
    const response = await fetch(server.http("/echo"));
    expect(response.status).toBe(426);
    expect(response.headers.get("upgrade")).toBe("websocket");
    expect(await response.text()).toContain("WebSocket");
  });

  test("CONNECT in authority form is a 405 naming it, never a 500 (issue 19 #14)", async () => {
    const head = await rawRequest(`CONNECT 127.0.0.1:${server.port} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    expect(head).toStartWith("HTTP/1.1 405");
    expect(head.toLowerCase()).toContain("allow: get");
    expect(head).toContain(`CONNECT 127.0.0.1:${server.port} is not allowed: skyport is not a proxy`);
    expect(JSON.stringify(server.logger.lines)).not.toContain("http_error");
  });

  test("unknown paths are 404", async () => {
    const response = await fetch(server.http("/no/such/thing"));
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("/no/such/thing");
  });

  test.each(["POST", "PUT", "DELETE", "PATCH"])("%s on a known path is 405 with Allow: GET", async (method) => {
    for (const path of ["/", "/echo", "/healthz"]) {
      const response = await fetch(server.http(path), { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET");
    }
  });

  test("GET /healthz reports status, uptime and open connections per endpoint", async () => {
    const before = await (await fetch(server.http("/healthz"))).json();
    expect(before.status).toBe("ok");
    expect(typeof before.uptimeSeconds).toBe("number");
    const sockets = await Promise.all([openSocket(server.ws("/echo")), openSocket(server.ws("/echo"))]);
    const during = await (await fetch(server.http("/healthz"))).json();
    expect(during.connections.echo).toBe((before.connections.echo ?? 0) + 2);
    expect(during.connections.total).toBe(before.connections.total + 2);
    for (const ws of sockets) ws.close();
  });
});

describe("connection logs", () => {
  test("one line on open and one on close, with endpoint, remote, code, duration and counts", async () => {
    const ws = await openSocket(server.ws("/echo"));
    const inbox = new Inbox(ws);
    ws.send("one");
    ws.send("two");
    await inbox.next();
    await inbox.next();
    ws.close(1000, "done");
    await inbox.waitClose();
    await waitUntil(() => server.logger.lines.some((line) => line.event === "ws_close" && line.code === 1000));
    const mine = server.logger.lines.filter((line) => line.event === "ws_close").at(-1)!;
    expect(mine).toMatchObject({ endpoint: "/echo", code: 1000, messagesIn: 2, messagesOut: 2 });
    expect(String(mine.remote)).toStartWith("127.0.0.1:");
    expect(typeof mine.durationMs).toBe("number");
    const opens = server.logger.lines.filter((line) => line.event === "ws_open" && line.remote === mine.remote);
    expect(opens.length).toBe(1);
    expect(server.logger.lines.some((line) => /message/.test(line.event))).toBe(false);
  });
});

/** Writes one raw HTTP request and resolves with the response head and the start of its body. */
function rawRequest(text: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.write(text));
    let buffer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response within ${timeoutMs} ms: ${JSON.stringify(buffer)}`));
    }, timeoutMs);
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      const end = buffer.indexOf("\r\n\r\n");
      if (end !== -1 && buffer.length > end + 4) {
        clearTimeout(timer);
        socket.destroy();
        resolve(buffer);
      }
    });
  });
}
