/**
 * A fake ArduCopter behind a loopback TCP port, as a telemetry router offers
 * one to several ground stations: every connection gets the autopilot's
 * HEARTBEAT and position at a steady rate, and every packet a connection
 * sends is recorded with the connection it came on and when. For link tests
 * and for cluster tests that must see which node talks to the aircraft.
 */
import type { Socket, TCPSocketListener } from "bun";
import { MavLinkPacketParser, MavLinkPacketSplitter, type MavLinkPacket } from "node-mavlink";
import { FakeAutopilot } from "./mavlink-autopilot.ts";

/** What one connection sent: the packet, when (performance.now() ms), and which connection (1-based). */
export interface ReceivedPacket {
  packet: MavLinkPacket;
  at: number;
  connection: number;
}

interface ConnectionData {
  splitter: MavLinkPacketSplitter;
  number: number;
}

export interface AutopilotServer {
  readonly port: number;
  readonly received: ReceivedPacket[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** The numbers of the connections open now. */
  readonly open: number[];
  /** Writes bytes to the newest open connection. */
  send(bytes: Buffer): void;
  /** Ends the newest open connection. */
  dropConnection(): void;
  stop(): void;
}

/**
 * Starts the server. With `streamMilliseconds`, every open connection gets a
 * HEARTBEAT (GUIDED, armed per `armed`) and a GLOBAL_POSITION_INT that often,
 * as an autopilot streams; without it, the test writes every byte.
 */
export function startAutopilotServer(options: { streamMilliseconds?: number; armed?: boolean } = {}): AutopilotServer {
  const received: ReceivedPacket[] = [];
  const sockets = new Map<number, Socket<ConnectionData>>();
  let connections = 0;
  const autopilot = new FakeAutopilot(1, 1);
  const listener: TCPSocketListener<ConnectionData> = Bun.listen<ConnectionData>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        connections += 1;
        const number = connections;
        const splitter = new MavLinkPacketSplitter();
        const parser = new MavLinkPacketParser();
        splitter.pipe(parser);
        parser.on("data", (packet: MavLinkPacket) => received.push({ packet, at: performance.now(), connection: number }));
        socket.data = { splitter, number };
        sockets.set(number, socket);
      },
      data(socket, chunk) {
        socket.data.splitter.write(Buffer.from(chunk));
      },
      close(socket) {
        sockets.delete(socket.data.number);
      },
    },
  });
  const stream =
    options.streamMilliseconds === undefined
      ? null
      : setInterval(() => {
          const bytes = Buffer.concat([autopilot.heartbeat({ armed: options.armed ?? false, customMode: 4 }), autopilot.home(), autopilot.position(0, 0, 0)]);
          for (const socket of sockets.values()) socket.write(bytes);
        }, options.streamMilliseconds);
  const newest = () => [...sockets.values()].at(-1);
  return {
    port: listener.port,
    received,
    get connections() {
      return connections;
    },
    get open() {
      return [...sockets.keys()];
    },
    send: (bytes) => void newest()?.write(bytes),
    dropConnection: () => newest()?.end(),
    stop() {
      if (stream !== null) clearInterval(stream);
      listener.stop(true);
    },
  };
}
