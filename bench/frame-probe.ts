/**
 * Measures the size of skyport's telemetry message for a workload, so that
 * bare Bun's publish loop can send frames of the same size: starts skyport
 * for the workload, subscribes one viewer exactly as the load generator's
 * viewers do, and takes the median size of the telemetry messages it
 * receives in a short spell.
 *
 * Owns that one measurement; it uses Bun's WebSocket client (one socket,
 * outside any measured window) rather than the load generator.
 */
import { startServer, type Launch, type ServerSpec } from "./servers.ts";

/** How long to collect telemetry messages once the first has arrived. */
const collectMilliseconds = 600;
/** Upper bound on the whole probe after the server started. */
const probeTimeoutMilliseconds = 10_000;
/** How skyport's telemetry messages start: one drone's frame, or every drone's in a batch. */
const telemetryPrefixes = ['{"type":"telemetry",', '{"type":"telemetry_batch",'];

/** Median UTF-8 byte size of the telemetry messages (single frames or batches) a viewer receives. */
export async function probeTelemetryBytes(spec: ServerSpec, launch: Launch, core: number): Promise<number> {
  const server = await startServer(spec, launch, core);
  let socket: WebSocket | undefined;
  try {
    const sizes: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`no telemetry within ${probeTimeoutMilliseconds} ms`)), probeTimeoutMilliseconds);
      const done = () => {
        clearTimeout(timeout);
        resolve();
      };
      socket = new WebSocket(`ws://127.0.0.1:${server.port}${launch.path}`);
      socket.onopen = () => launch.openingMessages.forEach((text) => socket!.send(text));
      socket.onerror = () => reject(new Error(`cannot open ws://127.0.0.1:${server.port}${launch.path}`));
      socket.onmessage = (event) => {
        if (typeof event.data !== "string" || !telemetryPrefixes.some((prefix) => event.data.startsWith(prefix))) return;
        if (sizes.length === 0) setTimeout(done, collectMilliseconds);
        sizes.push(Buffer.byteLength(event.data));
      };
    });
    sizes.sort((a, b) => a - b);
    return sizes[sizes.length >> 1]!;
  } finally {
    socket?.close();
    await server.stop();
  }
}
