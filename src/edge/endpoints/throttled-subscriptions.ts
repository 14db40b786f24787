/**
 * A session's throttled subscriptions (`subscribe` `maxHz`) on its socket:
 * registering each with the throttled-frame path (runtime/throttled-viewers.ts),
 * moving one when the session's `*` topic changes, and dropping them on
 * unsubscribe and close.
 *
 * Owns the bookkeeping between a session and the registry, nothing else:
 * the schedule is the pure throttle's, which frames are offered is the
 * telemetry streams'. A viewer's frames are skipped while its socket is
 * stalled for backpressure, as pub/sub frames are (sessions/registry.ts).
 */
import { allDrones } from "../../../protocol/index.ts";
import { FrameThrottle } from "../../core/flow/throttle.ts";
import type { ThrottledViewers } from "../../runtime/throttled-viewers.ts";
import { sendTo, type Socket } from "../connections.ts";
import { frameTopicOf, type DroneSession } from "../sessions/session.ts";

/**
 * Makes the session's subscription to `subscription` (a drone or `*`)
 * throttled at `maxHz`, replacing any throttle it had. `sentAtMs`: a frame
 * was just sent to it (a resume's latest), so the next is due an interval
 * on. Its pub/sub topic is then `topicOf`'s notice topic.
 */
export function throttleSubscription(ws: Socket, session: DroneSession, subscription: string, maxHz: number, viewers: ThrottledViewers, sentAtMs: number | null): void {
  unthrottleSubscription(session, subscription, viewers);
  const throttle = new FrameThrottle(maxHz);
  if (sentAtMs !== null) throttle.sent(sentAtMs);
  const viewer = {
    throttle,
    send(text: string) {
      if (session.stalledSince === null) sendTo(ws, text);
    },
  };
  const topic = frameTopicOf(session, subscription);
  (session.throttled ??= new Map()).set(subscription, { topic, viewer });
  viewers.watch(topic, viewer);
}

/** The subscription is no longer throttled (unsubscribed, or subscribed again at full rate). */
export function unthrottleSubscription(session: DroneSession, subscription: string, viewers: ThrottledViewers): void {
  const throttled = session.throttled?.get(subscription);
  if (throttled === undefined) return;
  viewers.unwatch(throttled.topic, throttled.viewer);
  session.throttled!.delete(subscription);
  if (session.throttled!.size === 0) session.throttled = null;
}

/** The session's `*` topic changed (its rights did): a throttled `*` subscription follows it. */
export function followFleetTopic(session: DroneSession, viewers: ThrottledViewers): void {
  const throttled = session.throttled?.get(allDrones);
  if (throttled === undefined || throttled.topic === session.fleetTopic) return;
  viewers.unwatch(throttled.topic, throttled.viewer);
  throttled.topic = session.fleetTopic;
  viewers.watch(throttled.topic, throttled.viewer);
}

/** The socket closed: none of its subscriptions is offered frames any more. */
export function unthrottleAll(session: DroneSession, viewers: ThrottledViewers): void {
  for (const subscription of [...(session.throttled?.keys() ?? [])]) unthrottleSubscription(session, subscription, viewers);
}
