/**
 * Reference: the thinnest possible Bun.serve WebSocket echo. skyport's /echo
 * is measured against this, so it must stay bare: no routes, no per-socket
 * data, no logging, no counters.
 *
 * usage: bun run bench/reference/bun-echo.ts [--addr host:port]
 * Prints `bun-echo listening on HOST:PORT` once listening. Every path upgrades.
 */
const args = process.argv.slice(2);
const addrIndex = args.indexOf("--addr");
const addr = addrIndex >= 0 ? args[addrIndex + 1] : "127.0.0.1:0";
const match = addr ? /^(.*):(\d+)$/.exec(addr) : null;
if (!match) {
  console.error(`bun-echo: --addr must be host:port: got ${JSON.stringify(addr)}`);
  process.exit(2);
}

const server = Bun.serve({
  hostname: match[1] || "127.0.0.1",
  port: Number(match[2]),
  development: false,
  fetch(req, server) {
    if (server.upgrade(req)) return undefined;
    return new Response("WebSocket upgrade required\n", { status: 426, headers: { Upgrade: "websocket" } });
  },
  websocket: {
    message(ws, message) {
      ws.send(message);
    },
  },
});

console.log(`bun-echo listening on ${server.hostname}:${server.port}`);
