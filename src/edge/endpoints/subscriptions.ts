/**
 * The subscribe rules, as a pure plan plus a thin step that carries it out.
 *
 * The plan decides: refuse (unknown drone, too many subscriptions), defer
 * (the socket is backpressured: remember the wish and where each stream
 * stood, and resume when it drains), or go live, with the resume's replay
 * first. Applying it does what was decided in one synchronous turn: the ack,
 * the replayed events and frames, then the live topic, so no frame is
 * published in between and the client sees no gap and no duplicate.
 *
 * A resume names the stream epoch its `since` counts in; one of another
 * epoch (or, without an epoch, a seq beyond the stream) is a `stream_reset`:
 * the client counts afresh from the live frames, never from a splice of two
 * streams. The ack says the epoch of the frames that follow it.
 *
 * A subscription with `maxHz` below the telemetry rate is throttled: its
 * socket listens on the topic's notice topic (leases, events) and gets
 * frames through its throttle (throttled-subscriptions.ts). Its resume sends
 * the newest buffered frame after `since`, not the backlog, and no
 * `frames_lost` for the frames it skips: a throttled viewer wants the latest
 * state, and the seqs it skips are not missing. A `stream_reset` is said as
 * for any resume.
 */
import {
  allDrones,
  tooManySubscriptions,
  unknownDrone,
  type AckVariants,
  type ClientMessage,
  type EpochByDrone,
  type EventData,
  type ProtocolError,
  type SeqByDrone,
} from "../../../protocol/index.ts";
import type { ReplayPlan } from "../../core/telemetry/replay-buffer.ts";
import type { ThrottledViewers } from "../../runtime/throttled-viewers.ts";
import { fleetTopic, noticeTopic, telemetryTopic } from "../../runtime/topics.ts";
import type { Socket } from "../connections.ts";
import { addSubscription, subscriptionsOf, topicOf, type DroneSession } from "../sessions/session.ts";
import type { JsonReplier } from "./replier.ts";
import { throttleSubscription, unthrottleSubscription } from "./throttled-subscriptions.ts";

/** What a subscribe asks for: one drone with the last seq seen, or `*` with a seq per drone (as the envelope validated it). */
export type SubscribeRequest = Extract<ClientMessage, { type: "subscribe" }>["data"];

/** The telemetry streams as the plan reads them. */
export interface Streams {
  readonly ids: readonly string[];
  has(drone: string): boolean;
  latestSeq(drone: string): number | null;
  /** The stream epoch the drone's seqs count in now. */
  epoch(drone: string): string;
  /** What a subscriber resuming after `since` (of `epoch`, when known) must be sent. */
  replay(drone: string, since: number, epoch?: string): ReplayPlan;
}

/** The subscribing socket as the plan reads it. */
export interface Subscriber {
  readonly subscriptions: readonly string[];
  /** Whether telemetry to it is stopped for backpressure. */
  readonly stalled: boolean;
  readonly maxSubscriptions: number;
  /** The topic its `*` subscription listens on (the full batch by default; a restricted identity's own). */
  readonly fleetTopic?: string;
  /** The server's telemetry rate: a `maxHz` at or above it is the full rate. */
  readonly telemetryHz: number;
}

/** One message of a resume, in order: an event about the stream, or a buffered frame as it was published. */
export type ReplayItem = { event: EventData } | { frame: string };

export type SubscriptionPlan =
  | { kind: "refuse"; error: ProtocolError }
  /**
   * Backpressured: subscribe once it drains; `sinceByDrone` is where each stream stands for this socket (kept if already set).
   * `maxHz`: the throttle; absent at full rate.
   */
  | { kind: "defer"; subscription: string; sinceByDrone: ReadonlyMap<string, number | null>; ack: AckVariants["subscribe"]; maxHz?: number }
  /**
   * Live now: `resubscribe` drops the topic first so the replay cannot interleave with live frames.
   * `topic` is the pub/sub topic (a notice topic when throttled); `maxHz` the throttle, absent at full rate.
   */
  | { kind: "live"; subscription: string; topic: string; resubscribe: boolean; ack: AckVariants["subscribe"]; replay: ReplayItem[]; maxHz?: number };

const backpressuredNote = "socket is backpressured: telemetry resumes when it drains";

/** Decides what a subscribe does. Pure: reads the streams and the subscriber, changes nothing. */
export function planSubscription(request: SubscribeRequest, streams: Streams, subscriber: Subscriber): SubscriptionPlan {
  const { drone, since } = request;
  const all = drone === allDrones;
  if (all) {
    const unknown = [...(since instanceof Map ? since.keys() : [])].find((id) => !streams.has(id));
    if (unknown !== undefined) return { kind: "refuse", error: unknownDrone(unknown, streams.ids, `data.since.${unknown}`) };
  } else if (!streams.has(drone)) {
    return { kind: "refuse", error: unknownDrone(drone, streams.ids) };
  }
  if (!subscriber.subscriptions.includes(drone) && subscriber.subscriptions.length >= subscriber.maxSubscriptions) {
    return { kind: "refuse", error: tooManySubscriptions(subscriber.maxSubscriptions) };
  }
  const epoch = request.epoch;
  // At or above the telemetry rate a throttle would pass every frame: that is the full-rate (pub/sub) path.
  const maxHz = request.maxHz !== undefined && request.maxHz < subscriber.telemetryHz ? request.maxHz : null;
  if (all) return planAll(since instanceof Map ? since : undefined, epoch instanceof Map ? epoch : undefined, maxHz, streams, subscriber);
  return planOne(drone, typeof since === "number" ? since : undefined, typeof epoch === "string" ? epoch : undefined, maxHz, streams, subscriber);
}

function planOne(drone: string, since: number | undefined, sinceEpoch: string | undefined, maxHz: number | null, streams: Streams, subscriber: Subscriber): SubscriptionPlan {
  const latestSeq = streams.latestSeq(drone);
  const epoch = streams.epoch(drone);
  const rate = maxHz === null ? {} : { maxHz };
  if (subscriber.stalled) {
    // A since of another stream cannot be resumed when the socket drains: it starts from where the stream stands now.
    const resumable = since !== undefined && (sinceEpoch === undefined || sinceEpoch === epoch);
    const sinceByDrone = new Map([[drone, resumable ? since : latestSeq]]);
    return { kind: "defer", subscription: drone, sinceByDrone, ack: { drone, subscribed: true, replayed: 0, latestSeq, epoch, note: backpressuredNote, ...rate }, ...rate };
  }
  const topic = maxHz === null ? telemetryTopic(drone) : noticeTopic(telemetryTopic(drone));
  if (since === undefined) {
    return { kind: "live", subscription: drone, topic, resubscribe: false, ack: { drone, subscribed: true, replayed: 0, latestSeq, epoch, ...rate }, replay: [], ...rate };
  }
  const plan = streams.replay(drone, since, sinceEpoch);
  const replay = replayItems(drone, since, sinceEpoch, plan, latestSeq, epoch, maxHz !== null);
  return {
    kind: "live",
    subscription: drone,
    topic,
    resubscribe: subscriber.subscriptions.includes(drone),
    ack: { drone, subscribed: true, replayed: framesIn(replay), lost: maxHz === null ? plan.lost : 0, latestSeq, epoch, ...rate },
    replay,
    ...rate,
  };
}

/** How many frames a resume replays. */
function framesIn(replay: readonly ReplayItem[]): number {
  return replay.reduce((count, item) => count + ("frame" in item ? 1 : 0), 0);
}

function planAll(
  since: ReadonlyMap<string, number> | undefined,
  sinceEpochs: ReadonlyMap<string, string> | undefined,
  maxHz: number | null,
  streams: Streams,
  subscriber: Subscriber,
): SubscriptionPlan {
  const latestSeq: SeqByDrone = Object.fromEntries(streams.ids.map((drone) => [drone, streams.latestSeq(drone)]));
  const epoch: EpochByDrone = Object.fromEntries(streams.ids.map((drone) => [drone, streams.epoch(drone)]));
  const rate = maxHz === null ? {} : { maxHz };
  if (subscriber.stalled) {
    const resumable = (drone: string) => since?.has(drone) && (sinceEpochs?.get(drone) ?? epoch[drone]) === epoch[drone];
    const sinceByDrone = new Map(streams.ids.map((drone) => [drone, (resumable(drone) ? since?.get(drone) : undefined) ?? latestSeq[drone] ?? null]));
    return { kind: "defer", subscription: allDrones, sinceByDrone, ack: { drone: allDrones, subscribed: true, replayed: 0, latestSeq, epoch, note: backpressuredNote, ...rate }, ...rate };
  }
  const plans = [...(since ?? [])].map(([drone, seq]) => ({ drone, seq, sinceEpoch: sinceEpochs?.get(drone), plan: streams.replay(drone, seq, sinceEpochs?.get(drone)) }));
  const lost = maxHz === null ? plans.reduce((sum, { plan }) => sum + plan.lost, 0) : 0;
  const replay = plans.flatMap(({ drone, seq, sinceEpoch, plan }) => replayItems(drone, seq, sinceEpoch, plan, latestSeq[drone] ?? null, epoch[drone]!, maxHz !== null));
  const frameTopic = subscriber.fleetTopic ?? fleetTopic;
  return {
    kind: "live",
    subscription: allDrones,
    topic: maxHz === null ? frameTopic : noticeTopic(frameTopic),
    resubscribe: subscriber.subscriptions.includes(allDrones),
    ack: { drone: allDrones, subscribed: true, replayed: framesIn(replay), lost, latestSeq, epoch, ...rate },
    replay,
    ...rate,
  };
}

/**
 * A resume's events (stream reset, frames lost) and frames, in that order.
 * `latestOnly` (a throttled subscription): the newest frame after `since`
 * only, and no `frames_lost`, since the frames it skips are skipped on purpose.
 */
function replayItems(drone: string, since: number, sinceEpoch: string | undefined, plan: ReplayPlan, latestSeq: number | null, epoch: string, latestOnly = false): ReplayItem[] {
  const items: ReplayItem[] = [];
  if (plan.reset) {
    const why =
      sinceEpoch !== undefined && sinceEpoch !== epoch
        ? `seq ${since} is of stream epoch ${sinceEpoch}, and this stream is epoch ${epoch} (the server restarted or lost the stream)`
        : `seq ${since} is ahead of this server's stream (it restarted)`;
    items.push({ event: { drone, kind: "stream_reset", message: `${why}: continuing live`, latestSeq, epoch } });
  }
  if (plan.lost > 0 && !latestOnly) {
    const from = since + 1;
    const to = since + plan.lost;
    items.push({ event: { drone, kind: "frames_lost", message: `${plan.lost} frames after seq ${since} are no longer buffered`, lost: plan.lost, from, to } });
  }
  for (const frame of latestOnly ? plan.frames.slice(-1) : plan.frames) items.push({ frame });
  return items;
}

/** What carrying out a plan needs beyond the socket: the throttled-frame path and the time its frames carry now (wall ms). */
export interface Throttling {
  viewers: ThrottledViewers;
  nowMs: number;
}

/**
 * Carries a plan out on the socket, in one synchronous turn. A subscription
 * that changes rate (full to throttled, or back) leaves its old topic and
 * throttle first.
 */
export function applySubscription(plan: SubscriptionPlan, ws: Socket, session: DroneSession, reply: JsonReplier, throttling: Throttling): void {
  switch (plan.kind) {
    case "refuse":
      return reply.error(plan.error);
    case "defer": {
      // Stalled: no topic is subscribed now; the registry subscribes `topicOf` (which the throttle decides) when it drains.
      addSubscription(session, plan.subscription);
      if (plan.maxHz === undefined) unthrottleSubscription(session, plan.subscription, throttling.viewers);
      else throttleSubscription(ws, session, plan.subscription, plan.maxHz, throttling.viewers, null);
      const stalledAtSeq = (session.stalledAtSeq ??= new Map());
      for (const [drone, seq] of plan.sinceByDrone) if (!stalledAtSeq.has(drone)) stalledAtSeq.set(drone, seq);
      return reply.ack(plan.ack);
    }
    case "live": {
      const previousTopic = subscriptionsOf(session).includes(plan.subscription) ? topicOf(session, plan.subscription) : null;
      if (previousTopic !== null && (plan.resubscribe || previousTopic !== plan.topic)) ws.unsubscribe(previousTopic);
      unthrottleSubscription(session, plan.subscription, throttling.viewers);
      reply.ack(plan.ack);
      let framesSent = false;
      for (const item of plan.replay) {
        if ("event" in item) reply.event(item.event);
        else {
          reply.encoded(item.frame);
          framesSent = true;
        }
      }
      addSubscription(session, plan.subscription);
      if (plan.maxHz !== undefined) throttleSubscription(ws, session, plan.subscription, plan.maxHz, throttling.viewers, framesSent ? throttling.nowMs : null);
      ws.subscribe(plan.topic);
    }
  }
}
