/** The opening handshake over a raw TCP socket (RFC 6455 section 4). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkHandshake } from "../../src/edge/handshake.ts";
import { rawConnect } from "../support/raw.ts";
import { startTestServer } from "../support/server.ts";

let server: ReturnType<typeof startTestServer>;
beforeAll(() => {
  server = startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe("handshake over raw TCP", () => {
  test.each([
    ["dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
    ["f7cb4ezEAl6C3wRaU6JORA==", "rE91AJhfC+6JdVcVXOGJEADEJdQ="],
  ])("key %s is accepted with %s", async (key, accept) => {
    const conn = await rawConnect(server.port, { key });
    expect(conn.status).toBe(101);
    expect(conn.headers["upgrade"]?.toLowerCase()).toBe("websocket");
    expect(conn.headers["connection"]?.toLowerCase()).toBe("upgrade");
    expect(conn.headers["sec-websocket-accept"]).toBe(accept);
    conn.close();
  });

  test("version 8 is refused with 426 and told to use 13", async () => {
    const conn = await rawConnect(server.port, { headers: { "Sec-WebSocket-Version": "8" } });
    expect(conn.status).toBe(426);
    expect(conn.headers["sec-websocket-version"]).toBe("13");
    expect(conn.body).toContain("Sec-WebSocket-Version must be 13");
    conn.close();
  });

  test("a missing key is refused with 400", async () => {
    const conn = await rawConnect(server.port, { headers: { "Sec-WebSocket-Key": null } });
    expect(conn.status).toBe(400);
    expect(conn.body).toContain("Sec-WebSocket-Key");
    conn.close();
  });

  test("a key that is not 16 bytes of base64 is refused with 400", async () => {
    const conn = await rawConnect(server.port, { key: "c2hvcnQ=" });
    expect(conn.status).toBe(400);
    conn.close();
  });

  test("a POST upgrade is refused with 405", async () => {
    const conn = await rawConnect(server.port, { method: "POST" });
    expect(conn.status).toBe(405);
    expect(conn.headers["allow"]).toBe("GET");
    conn.close();
  });

  test("a request without Connection: Upgrade is refused with 400", async () => {
    const conn = await rawConnect(server.port, { headers: { Connection: "keep-alive" } });
    expect(conn.status).toBe(400);
    conn.close();
  });
});

describe("checkHandshake (pure)", () => {
  const good = {
    upgrade: "websocket",
    connection: "keep-alive, Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  };
  test("accepts a valid request, case-insensitively and with a Connection list", () => {
    expect(checkHandshake(new Headers({ ...good, upgrade: "WebSocket" }))).toBeNull();
  });
  test("a plain GET must upgrade (426 with Upgrade: websocket)", () => {
    const refusal = checkHandshake(new Headers({}));
    expect(refusal?.status).toBe(426);
    expect(refusal?.headers?.Upgrade).toBe("websocket");
  });
  test("names the received value in its message", () => {
    expect(checkHandshake(new Headers({ ...good, "sec-websocket-key": "nope" }))?.message).toContain('"nope"');
  });
});
