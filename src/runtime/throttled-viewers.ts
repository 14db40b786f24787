/**
 * The frame path of throttled subscriptions (`subscribe` `maxHz`): per
 * topic, the viewers that asked for fewer frames than the telemetry rate,
 * each with its own throttle (`core/flow/throttle.ts`). A frame published on
 * a topic is offered to each of its throttled viewers, who gets it when its
 * throttle says it is due; the others skip it.
 *
 * Full-rate viewers never come here: they are Bun pub/sub subscribers of the
 * topic, and a publish finds this registry empty for the topic at the cost of
 * one map lookup. Leases and events reach throttled viewers on pub/sub too,
 * on the topic's notice topic (`topics.ts`). Never touches a socket: each
 * viewer is a `send` the edge gives.
 */
import type { FrameThrottle } from "../core/flow/throttle.ts";

/** One throttled subscription: its throttle, and how a frame reaches its socket. */
export interface ThrottledViewer {
  readonly throttle: FrameThrottle;
  /** Sends a frame (already JSON); the edge skips it while the socket is stalled for backpressure. */
  send(text: string): void;
}

export class ThrottledViewers {
  private readonly byTopic = new Map<string, Set<ThrottledViewer>>();

  /** Whether any throttled viewer watches anything: the publish path's one check when none does. */
  get any(): boolean {
    return this.byTopic.size > 0;
  }

  /** Whether a throttled viewer watches `topic`. */
  watching(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  /** Throttled viewers of `topic`. */
  count(topic: string): number {
    return this.byTopic.get(topic)?.size ?? 0;
  }

  watch(topic: string, viewer: ThrottledViewer): void {
    let viewers = this.byTopic.get(topic);
    if (viewers === undefined) this.byTopic.set(topic, (viewers = new Set()));
    viewers.add(viewer);
  }

  /** Stops `viewer` watching `topic`; a topic left with none is forgotten. */
  unwatch(topic: string, viewer: ThrottledViewer): void {
    const viewers = this.byTopic.get(topic);
    if (viewers === undefined) return;
    viewers.delete(viewer);
    if (viewers.size === 0) this.byTopic.delete(topic);
  }

  /** A frame published on `topic` at `timeMs` (the frame's own time): sent to each viewer whose throttle says it is due. */
  offer(topic: string, text: string, timeMs: number): void {
    const viewers = this.byTopic.get(topic);
    if (viewers === undefined) return;
    for (const viewer of viewers) if (viewer.throttle.offer(timeMs)) viewer.send(text);
  }
}
