/**
 * Issue 19 #3: a pilot's liveness comes from what the pilot sends (any
 * message, or a pong to the server's once-a-second ping), never from what
 * the server writes. A real server process at the default pilot timeout
 * (5 s) and a short idle timeout (8 s, Bun's smallest): a SIGSTOPped pilot
 * process, and a half-open raw socket that stops reading and answering,
 * both lose the lease within the pilot timeout, and the failsafe starts.
 * Before the fix both kept it (telemetry writes reset Bun's idle timer).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { DroneTestClient } from "../support/drone-client.ts";
import { encodeFrame, opcodes } from "../support/frames.ts";
import { rawConnect } from "../support/raw.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

/** The server's default: no frame from the pilot for this long drops its lease. */
const pilotTimeoutSeconds = 5;
/** Checked once a second: the drop comes within one more second, plus scheduling slack. */
const dropWithinMs = (pilotTimeoutSeconds + 3) * 1000;

let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer(["--idle-timeout", "8", "--drones", "alpha,bravo,charlie"]);
});
afterAll(async () => {
  server.proc.kill("SIGKILL");
  await server.exited;
});

/** A pilot process: claims the drone, takes off, prints its session, then only receives telemetry. */
const pilotScript = (url: string, drone: string) => `
const ws = new WebSocket(${JSON.stringify(url)});
let session = null;
ws.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.type === "welcome") {
    session = message.data.session;
    ws.send(JSON.stringify({ type: "claim", id: 1, data: { drone: ${JSON.stringify(drone)} } }));
  } else if (message.type === "ack" && message.id === 1) {
    ws.send(JSON.stringify({ type: "command", id: 2, data: { drone: ${JSON.stringify(drone)}, name: "takeoff" } }));
    console.log("claimed " + session);
  }
};
`;

async function firstLine(stream: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!text.includes("\n")) {
    const read = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (read === null || read.done) throw new Error(`no line from the pilot process within ${timeoutMs} ms: ${JSON.stringify(text)}`);
    text += decoder.decode(read.value, { stream: true });
  }
  reader.releaseLock();
  return text.slice(0, text.indexOf("\n"));
}

test("a SIGSTOPped pilot process loses its lease within the pilot timeout, and the failsafe starts; a live silent one keeps its lease", async () => {
  const observer = await DroneTestClient.connect(server.ws("/drone?drone=alpha"));
  const pilot = spawn([process.execPath, "-e", pilotScript(server.ws("/drone?drone=alpha"), "alpha")], { stdout: "pipe", stderr: "inherit" });
  // A live pilot that never sends another message after its takeoff, as the Go tutorial's controller between button presses: its pongs keep it.
  const quiet = spawn([process.execPath, "-e", pilotScript(server.ws("/drone?drone=charlie"), "charlie")], { stdout: "pipe", stderr: "inherit" });
  try {
    const quietSession = (await firstLine(quiet.stdout, 5000)).replace("claimed ", "");
    const line = await firstLine(pilot.stdout, 5000);
    const session = line.replace("claimed ", "");
    await observer.take((m) => m?.type === "lease" && m.data.drone === "alpha" && m.data.pilot === session);
    await observer.waitTelemetry((frames) => frames.some((f) => f.state === "hovering" || f.state === "taking_off"));
    pilot.kill("SIGSTOP");
    const stoppedAt = performance.now();
    const lease = await observer.take((m) => m?.type === "lease" && m.data.drone === "alpha", dropWithinMs);
    const afterMs = performance.now() - stoppedAt;
    expect(lease.data.pilot).toBeNull();
    expect(lease.data.reason).toContain(`${pilotTimeoutSeconds} s`);
    expect(afterMs).toBeGreaterThanOrEqual((pilotTimeoutSeconds - 1) * 1000);
    const failsafe = await observer.take((m) => m?.type === "event" && m.data.kind === "failsafe" && m.data.drone === "alpha");
    expect(failsafe.data.action).toBe("hover");
    // By now the quiet pilot has sent nothing for longer than the pilot timeout, yet it answered every ping.
    const late = await DroneTestClient.connect(server.ws("/drone?drone=charlie"));
    expect(late.welcome.data.drones.find((d: { id: string }) => d.id === "charlie").pilot).toBe(quietSession);
    late.close();
  } finally {
    quiet.kill("SIGKILL");
    await quiet.exited;
    pilot.kill("SIGCONT");
    pilot.kill("SIGKILL");
    await pilot.exited;
    observer.close();
  }
}, 30_000);

test("a half-open pilot socket (stops reading, never answers a ping) loses its lease within the pilot timeout", async () => {
  const observer = await DroneTestClient.connect(server.ws("/drone?drone=bravo"));
  const raw = await rawConnect(server.port, { path: "/drone?drone=bravo" });
  try {
    expect(raw.status).toBe(101);
    const welcome = JSON.parse(new TextDecoder().decode((await raw.nextFrame(3000)).payload));
    expect(welcome.type).toBe("welcome");
    raw.send(encodeFrame({ opcode: opcodes.text, payload: JSON.stringify({ type: "claim", id: 1, data: { drone: "bravo" } }) }));
    await observer.take((m) => m?.type === "lease" && m.data.drone === "bravo" && m.data.pilot === welcome.data.session);
    raw.socket.pause(); // reads nothing more: no pong, no message, while telemetry keeps being written to it
    const silentAt = performance.now();
    const lease = await observer.take((m) => m?.type === "lease" && m.data.drone === "bravo", dropWithinMs);
    expect(lease.data.pilot).toBeNull();
    expect(lease.data.reason).toContain(`${pilotTimeoutSeconds} s`);
    expect(performance.now() - silentAt).toBeGreaterThanOrEqual((pilotTimeoutSeconds - 1) * 1000);
  } finally {
    raw.close();
    observer.close();
  }
}, 30_000);
