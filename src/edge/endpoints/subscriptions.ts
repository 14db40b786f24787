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
import { fleetTopic, telemetryTopic } from "../../runtime/topics.ts";
import type { Socket } from "../connections.ts";
import { addSubscription, type DroneSession } from "../sessions/session.ts";
import type { JsonReplier } from "./replier.ts";

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
}

/** One message of a resume, in order: an event about the stream, or a buffered frame as it was published. */
export type ReplayItem = { event: EventData } | { frame: string };

export type SubscriptionPlan =
  | { kind: "refuse"; error: ProtocolError }
  /** Backpressured: subscribe once it drains; `sinceByDrone` is where each stream stands for this socket (kept if already set). */
  | { kind: "defer"; subscription: string; sinceByDrone: ReadonlyMap<string, number | null>; ack: AckVariants["subscribe"] }
  /** Live now: `resubscribe` drops the topic first so the replay cannot interleave with live frames. */
  | { kind: "live"; subscription: string; topic: string; resubscribe: boolean; ack: AckVariants["subscribe"]; replay: ReplayItem[] };

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
  if (all) return planAll(since instanceof Map ? since : undefined, epoch instanceof Map ? epoch : undefined, streams, subscriber);
  return planOne(drone, typeof since === "number" ? since : undefined, typeof epoch === "string" ? epoch : undefined, streams, subscriber);
}

function planOne(drone: string, since: number | undefined, sinceEpoch: string | undefined, streams: Streams, subscriber: Subscriber): SubscriptionPlan {
  const latestSeq = streams.latestSeq(drone);
  const epoch = streams.epoch(drone);
  if (subscriber.stalled) {
    // A since of another stream cannot be resumed when the socket drains: it starts from where the stream stands now.
    const resumable = since !== undefined && (sinceEpoch === undefined || sinceEpoch === epoch);
    const sinceByDrone = new Map([[drone, resumable ? since : latestSeq]]);
    return { kind: "defer", subscription: drone, sinceByDrone, ack: { drone, subscribed: true, replayed: 0, latestSeq, epoch, note: backpressuredNote } };
  }
  const topic = telemetryTopic(drone);
  if (since === undefined) {
    return { kind: "live", subscription: drone, topic, resubscribe: false, ack: { drone, subscribed: true, replayed: 0, latestSeq, epoch }, replay: [] };
  }
  const plan = streams.replay(drone, since, sinceEpoch);
  return {
    kind: "live",
    subscription: drone,
    topic,
    resubscribe: subscriber.subscriptions.includes(drone),
    ack: { drone, subscribed: true, replayed: plan.frames.length, lost: plan.lost, latestSeq, epoch },
    replay: replayItems(drone, since, sinceEpoch, plan, latestSeq, epoch),
  };
}

function planAll(
  since: ReadonlyMap<string, number> | undefined,
  sinceEpochs: ReadonlyMap<string, string> | undefined,
  streams: Streams,
  subscriber: Subscriber,
): SubscriptionPlan {
  const latestSeq: SeqByDrone = Object.fromEntries(streams.ids.map((drone) => [drone, streams.latestSeq(drone)]));
  const epoch: EpochByDrone = Object.fromEntries(streams.ids.map((drone) => [drone, streams.epoch(drone)]));
  if (subscriber.stalled) {
    const resumable = (drone: string) => since?.has(drone) && (sinceEpochs?.get(drone) ?? epoch[drone]) === epoch[drone];
    const sinceByDrone = new Map(streams.ids.map((drone) => [drone, (resumable(drone) ? since?.get(drone) : undefined) ?? latestSeq[drone] ?? null]));
    return { kind: "defer", subscription: allDrones, sinceByDrone, ack: { drone: allDrones, subscribed: true, replayed: 0, latestSeq, epoch, note: backpressuredNote } };
  }
  const plans = [...(since ?? [])].map(([drone, seq]) => ({ drone, seq, sinceEpoch: sinceEpochs?.get(drone), plan: streams.replay(drone, seq, sinceEpochs?.get(drone)) }));
  const replayed = plans.reduce((sum, { plan }) => sum + plan.frames.length, 0);
  const lost = plans.reduce((sum, { plan }) => sum + plan.lost, 0);
  return {
    kind: "live",
    subscription: allDrones,
    topic: subscriber.fleetTopic ?? fleetTopic,
    resubscribe: subscriber.subscriptions.includes(allDrones),
    ack: { drone: allDrones, subscribed: true, replayed, lost, latestSeq, epoch },
    replay: plans.flatMap(({ drone, seq, sinceEpoch, plan }) => replayItems(drone, seq, sinceEpoch, plan, latestSeq[drone] ?? null, epoch[drone]!)),
  };
}

/** A resume's events (stream reset, frames lost) and frames, in that order. */
function replayItems(drone: string, since: number, sinceEpoch: string | undefined, plan: ReplayPlan, latestSeq: number | null, epoch: string): ReplayItem[] {
  const items: ReplayItem[] = [];
  if (plan.reset) {
    const why =
      sinceEpoch !== undefined && sinceEpoch !== epoch
        ? `seq ${since} is of stream epoch ${sinceEpoch}, and this stream is epoch ${epoch} (the server restarted or lost the stream)`
        : `seq ${since} is ahead of this server's stream (it restarted)`;
    items.push({ event: { drone, kind: "stream_reset", message: `${why}: continuing live`, latestSeq, epoch } });
  }
  if (plan.lost > 0) {
    const from = since + 1;
    const to = since + plan.lost;
    items.push({ event: { drone, kind: "frames_lost", message: `${plan.lost} frames after seq ${since} are no longer buffered`, lost: plan.lost, from, to } });
  }
  for (const frame of plan.frames) items.push({ frame });
  return items;
}

/** Carries a plan out on the socket, in one synchronous turn. */
export function applySubscription(plan: SubscriptionPlan, ws: Socket, session: DroneSession, reply: JsonReplier): void {
  switch (plan.kind) {
    case "refuse":
      return reply.error(plan.error);
    case "defer": {
      addSubscription(session, plan.subscription);
      const stalledAtSeq = (session.stalledAtSeq ??= new Map());
      for (const [drone, seq] of plan.sinceByDrone) if (!stalledAtSeq.has(drone)) stalledAtSeq.set(drone, seq);
      return reply.ack(plan.ack);
    }
    case "live":
      if (plan.resubscribe) ws.unsubscribe(plan.topic);
      reply.ack(plan.ack);
      for (const item of plan.replay) {
        if ("event" in item) reply.event(item.event);
        else reply.encoded(item.frame);
      }
      addSubscription(session, plan.subscription);
      ws.subscribe(plan.topic);
  }
}
