/**
 * A TCP proxy on a free 127.0.0.1 port, for cutting one process off a
 * server (a network partition) while the others keep their connections.
 * Owns only its listener and the connection pairs it made: `cut()` closes
 * every pair and refuses new connections until `restore()`. Bytes are
 * forwarded as they come; what is written to a side that is still
 * connecting is queued until it opens.
 */
import type { Socket, TCPSocketListener } from "bun";

interface Pair {
  client: Socket<Pair>;
  upstream: Socket<Pair> | null;
  /** Bytes from the client before the upstream connection opened. */
  queued: Uint8Array[];
  closed: boolean;
}

export interface TcpProxy {
  /** `redis://127.0.0.1:PORT` style address: the port to connect to instead of the target. */
  readonly port: number;
  /** Closes every connection through the proxy and refuses new ones. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  stop(): void;
}

/** Starts a proxy to `127.0.0.1:targetPort`. */
export function startTcpProxy(targetPort: number): TcpProxy {
  const pairs = new Set<Pair>();
  let refusing = false;
  const close = (pair: Pair) => {
    if (pair.closed) return;
    pair.closed = true;
    pairs.delete(pair);
    pair.client.end();
    pair.upstream?.end();
  };
  const listener: TCPSocketListener<Pair> = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        if (refusing) return void client.end();
        const pair: Pair = { client, upstream: null, queued: [], closed: false };
        client.data = pair;
        pairs.add(pair);
        void Bun.connect<Pair>({
          hostname: "127.0.0.1",
          port: targetPort,
          data: pair,
          socket: {
            open(upstream) {
              if (pair.closed) return void upstream.end();
              pair.upstream = upstream;
              for (const chunk of pair.queued.splice(0)) upstream.write(chunk);
            },
            data(_, chunk) {
              if (!pair.closed) pair.client.write(chunk);
            },
            close: () => close(pair),
            error: () => close(pair),
          },
        }).catch(() => close(pair));
      },
      data(client, chunk) {
        const pair = client.data;
        if (pair.closed) return;
        if (pair.upstream) pair.upstream.write(chunk);
        else pair.queued.push(new Uint8Array(chunk));
      },
      close: (client) => client.data && close(client.data),
      error: (client) => client.data && close(client.data),
    },
  });
  return {
    port: listener.port,
    cut() {
      refusing = true;
      for (const pair of [...pairs]) close(pair);
    },
    restore() {
      refusing = false;
    },
    stop() {
      this.cut();
      listener.stop(true);
    },
  };
}
