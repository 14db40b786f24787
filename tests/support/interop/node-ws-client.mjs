/**
 * A WebSocket client on Node's `ws` package for skyport's interop tests
 * (tests/e2e/interop.test.ts), run by Node itself: dials URL (ws:// or
 * wss://, trusting CAFILE for wss; "-" for none), sends each MESSAGE as a
 * text frame, prints every text message received, one per line, until one
 * contains UNTIL, then closes with 1000. Exits 1 if UNTIL is not seen within
 * 10 s.
 *
 *   node node-ws-client.mjs URL CAFILE UNTIL MESSAGE...
 */
import { readFileSync } from "node:fs";
import WebSocket from "ws";

/** Longest wait for the message containing UNTIL, milliseconds. */
const untilTimeoutMs = 10_000;

const [url, caFile, until, ...messages] = process.argv.slice(2);
if (until === undefined) {
  console.error("usage: node node-ws-client.mjs URL CAFILE UNTIL MESSAGE...");
  process.exit(2);
}
const fail = (message) => {
  console.error(`node-ws-client: ${message}`);
  process.exit(1);
};
const socket = new WebSocket(url, caFile === "-" ? {} : { ca: readFileSync(caFile) });
const timer = setTimeout(() => fail(`${JSON.stringify(until)} not received within ${untilTimeoutMs} ms`), untilTimeoutMs);
socket.on("error", (error) => fail(error.message));
socket.on("open", () => {
  for (const message of messages) socket.send(message);
});
socket.on("message", (data, isBinary) => {
  if (isBinary) return;
  const text = data.toString("utf8");
  console.log(text);
  if (!text.includes(until)) return;
  clearTimeout(timer);
  socket.close(1000, "done");
});
socket.on("close", () => process.exit(0));
