/**
 * Reference: WebSocket echo on Node.js with the `ws` library, as its README
 * shows it (permessage-deflate off, which is ws's server default).
 *
 * usage: node bench/reference/node-ws-echo.mjs [--addr host:port]
 * Prints `node-ws-echo listening on HOST:PORT` once listening. Every path upgrades.
 */
import { WebSocketServer } from "ws";

/** Same message size limit as skyport's default --echo-max-bytes. */
const maxPayloadBytes = 16 * 1024 * 1024;

const args = process.argv.slice(2);
const addrIndex = args.indexOf("--addr");
const addr = addrIndex >= 0 ? args[addrIndex + 1] : "127.0.0.1:0";
const match = addr ? /^(.*):(\d+)$/.exec(addr) : null;
if (!match) {
  console.error(`node-ws-echo: --addr must be host:port: got ${JSON.stringify(addr)}`);
  process.exit(2);
}

const wss = new WebSocketServer({
  host: match[1] || "127.0.0.1",
  port: Number(match[2]),
  perMessageDeflate: false,
  maxPayload: maxPayloadBytes,
});

wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", () => ws.terminate());
});

wss.on("listening", () => {
  const { address, port } = wss.address();
  console.log(`node-ws-echo listening on ${address}:${port}`);
});

process.on("SIGTERM", () => process.exit(0));
