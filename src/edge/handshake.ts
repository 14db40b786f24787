/**
 * WebSocket opening-handshake checks (RFC 6455 section 4.2.1), done before
 * Bun's native `server.upgrade()` so that every refusal carries a precise HTTP
 * status and a message a person can act on.
 *
 * Pure: headers in, verdict out. It never upgrades and never touches a socket.
 */

/** Why an upgrade request was refused, as an HTTP response description. */
export interface HandshakeRefusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** The only protocol version RFC 6455 defines. */
export const websocketVersion = "13";

/** Whether a request asks for a WebSocket upgrade at all (`Upgrade: websocket`). */
export function wantsWebSocket(headers: Headers): boolean {
  const upgrade = headers.get("upgrade");
  return upgrade !== null && upgrade.trim().toLowerCase() === "websocket";
}

/**
 * Returns why a GET request cannot be upgraded, or null if it can.
 * Order matters: a plain HTTP request learns it must upgrade (426) before
 * being told about keys it never meant to send.
 */
export function checkHandshake(headers: Headers): HandshakeRefusal | null {
  if (!wantsWebSocket(headers)) {
    return {
      status: 426,
      message: "this endpoint speaks WebSocket only: send a GET with Upgrade: websocket",
      headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": websocketVersion },
    };
  }
  const connection = headers.get("connection") ?? "";
  if (!connection.split(",").some((token) => token.trim().toLowerCase() === "upgrade")) {
    return { status: 400, message: `Connection header must include "Upgrade": received ${JSON.stringify(connection)}` };
  }
  const version = headers.get("sec-websocket-version");
  if (version?.trim() !== websocketVersion) {
    return {
      status: 426,
      message: `Sec-WebSocket-Version must be ${websocketVersion}: received ${version === null ? "none" : JSON.stringify(version)}`,
      headers: { "Sec-WebSocket-Version": websocketVersion },
    };
  }
  const key = headers.get("sec-websocket-key");
  if (key === null || !isValidKey(key.trim())) {
    return {
      status: 400,
      message: `Sec-WebSocket-Key must be 16 random bytes in base64: received ${key === null ? "none" : JSON.stringify(key)}`,
    };
  }
  return null;
}

/** A key is the base64 encoding of exactly 16 bytes: 22 characters plus "==". */
function isValidKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}
