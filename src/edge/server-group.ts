/**
 * The Bun servers one skyport process runs on its port: the one listening
 * now, and earlier ones that stopped listening but still hold open sockets
 * (after a TLS reload, which Bun cannot do in place: `server.reload` ignores
 * `tls`, oven-sh/bun#43815). To the flight service the group is one
 * `Publisher`: a frame reaches every socket whichever server accepted it.
 *
 * Owns the list and the hand-over; it never builds a server's options
 * (`app.ts` does) and never reads certificates (`tls.ts`).
 */
import type { Server } from "bun";
import type { Publisher } from "../runtime/telemetry-streams.ts";

/** The listening server and the retired ones that still have sockets. Invariant: `current` is never in `retired`. */
export class ServerGroup<Data> implements Publisher {
  private retired: Server<Data>[] = [];

  /**
   * @param compressPublished whether published messages (full-rate telemetry, leases, events) are compressed for
   * sockets that negotiated permessage-deflate (`--compression drone|all`); Bun deflates once per such socket.
   */
  constructor(
    private listening: Server<Data>,
    private readonly compressPublished = false,
  ) {}

  /** The server listening now. */
  get current(): Server<Data> {
    return this.listening;
  }

  /** Every server, the listening one first. */
  get all(): readonly Server<Data>[] {
    return [this.listening, ...this.retired];
  }

  /**
   * Makes `next` (already listening on the same port, with `reusePort`) the
   * listening server, and stops the previous one listening without closing
   * its sockets: they live on until they close by themselves.
   */
  handOver(next: Server<Data>): void {
    const previous = this.listening;
    this.listening = next;
    this.retired.push(previous);
    void previous.stop(false);
  }

  /**
   * Telemetry, leases and events to a topic's subscribers (all `/drone`
   * sockets). With `compressPublished`, compressed for each that negotiated
   * permessage-deflate; the others pay nothing for it either way.
   */
  publish(topic: string, text: string): void {
    this.listening.publish(topic, text, this.compressPublished);
    if (this.retired.length === 0) return;
    // A retired server with no socket left is dropped here: publishing is the group's one regular call.
    this.retired = this.retired.filter((server) => server.pendingWebSockets > 0);
    for (const server of this.retired) server.publish(topic, text, this.compressPublished);
  }

  subscriberCount(topic: string): number {
    let count = this.listening.subscriberCount(topic);
    for (const server of this.retired) count += server.subscriberCount(topic);
    return count;
  }
}
