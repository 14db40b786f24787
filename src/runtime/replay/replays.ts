/**
 * Replays of recorded flights, played through the live protocol as
 * read-only virtual vehicles `replay:<flight-id>` that come and go.
 *
 * Owns the replays running on this node: starting one (or joining the one
 * already playing that flight), steering it (speed, pause, seek), its frames
 * each tick (read ahead from the store by `recorded-frames.ts`, timed by the
 * pure cursor in `core/replay/cursor.ts`, re-stamped as the replay stream's
 * own), telling viewers that it came and went (`vehicle`) and where it stands
 * (`replay`), and ending one that nobody watched for `replayIdleSeconds`.
 *
 * Time comes from the caller (the flight service's injected clocks) on every
 * call; nothing here sets a timer. It never touches a socket (messages go
 * through the telemetry streams) and never decides rights: the caller says
 * which recorded vehicles the requester may view.
 */
import {
  encodeMessage,
  replayVehicleId,
  type DroneSummary,
  type ProtocolError,
  type ReplayStateData,
  type TelemetryData,
} from "../../../protocol/index.ts";
import { ReplayCursor } from "../../core/replay/cursor.ts";
import type { Clocks } from "../clock.ts";
import type { TickEntry } from "../cluster/broker.ts";
import type { Logger } from "../observability/log.ts";
import type { FlightRow, RecorderStore } from "../recorder/store.ts";
import type { TelemetryStreams } from "../telemetry-streams.ts";
import { RecordedFrames } from "./recorded-frames.ts";

/** A replay nobody on this node watched (its topic, `*`, or a view holding its recorded vehicle) for this long ends, seconds. */
export const replayIdleSeconds = 60;
/** Most replays one node plays at once: each reads the store ahead and publishes every tick. */
export const maxReplays = 8;

/** What steering a replay may change; unset fields stay as they are. */
export interface ReplayChange {
  speed?: number;
  paused?: boolean;
  positionMs?: number;
}

/** A replay request's outcome: where the replay stands, or the refusal. */
export type ReplayOutcome = { ok: true; state: ReplayStateData } | { ok: false; error: ProtocolError };

interface Replay {
  id: string;
  flight: FlightRow;
  cursor: ReplayCursor;
  frames: RecordedFrames;
  /** Seq of the last frame this replay's stream published, -1 before the first. */
  seq: number;
  /** The last frame published, null before the first: what `status` answers, and the replay's flight state (`landed` before the first). */
  latest: TelemetryData | null;
  /** Show the next frame at once, due or not (after a start or a seek: where the vehicle is there). */
  showNext: boolean;
  /** Whether viewers were told it reached the end (told once per arrival). */
  endAnnounced: boolean;
  /** When somebody last watched it, ms on the flight clock. */
  lastWatchedMs: number;
  /** Whether a page read failed and was logged, until one succeeds (one log line per streak). */
  readFailing: boolean;
}

export class Replays {
  private readonly replays = new Map<string, Replay>();

  constructor(
    private readonly store: RecorderStore,
    private readonly streams: TelemetryStreams,
    private readonly logger: Logger,
    /** Told when a replay ended, after its viewers heard so: nobody watches its id any more. */
    private readonly gone: (id: string) => void,
  ) {}

  has(id: string): boolean {
    return this.replays.has(id);
  }

  /** The replay vehicles playing now, oldest first. */
  get ids(): string[] {
    return [...this.replays.keys()];
  }

  /** The vehicle a replay's flight was recorded from (whose viewers may watch it), or undefined for no such replay. */
  recordedDrone(id: string): string | undefined {
    return this.replays.get(id)?.flight.drone;
  }

  /** The replays as listed in `welcome`. */
  /** A replay's last frame (its `status`): undefined when no such replay plays here, null before its first frame. */
  latestFrame(id: string): TelemetryData | null | undefined {
    return this.replays.get(id)?.latest;
  }

  summaries(latestSeq: (id: string) => number | null, epoch: (id: string) => string): DroneSummary[] {
    return [...this.replays.values()].map((replay) => ({
      id: replay.id,
      state: replay.latest?.state ?? "landed",
      pilot: null,
      seq: latestSeq(replay.id),
      epoch: epoch(replay.id),
      replay: { flight: replay.flight.id, recordedDrone: replay.flight.drone },
    }));
  }

  /** A replay's state as a `replay` message, for a new viewer; none for no such replay. */
  stateMessages(id: string, nowMs: number): string[] {
    const replay = this.replays.get(id);
    return replay === undefined ? [] : [encodeMessage("replay", this.state(replay, nowMs))];
  }

  /**
   * Starts the replay of a recorded flight at `nowMs`, or joins the one
   * already playing it (its speed and position are kept: everybody watches
   * the same replay). A flight that does not exist and one of a vehicle the
   * requester may not view are refused alike.
   */
  async start(flightId: string, options: ReplayChange, mayView: (drone: string) => boolean, clocks: Clocks): Promise<ReplayOutcome> {
    const id = replayVehicleId(flightId);
    const known = await this.store.flight(flightId);
    if (known === null || !mayView(known.drone)) return unknownFlight(flightId);
    const playing = this.replays.get(id);
    if (playing !== undefined) return { ok: true, state: this.state(playing, clocks.monotonicMs()) };
    if (this.replays.size >= maxReplays) {
      return { ok: false, error: { code: "busy", message: `this server plays at most ${maxReplays} replays at once: stop one first (playing ${this.ids.join(", ")})`, field: "data.flight" } };
    }
    // An open flight plays up to the moment the replay starts; a closed one to its end.
    const durationMs = Math.max(0, (known.endedAt ?? Math.max(known.startedAt, clocks.wallMs())) - known.startedAt);
    const positionMs = Math.min(durationMs, options.positionMs ?? 0);
    const frames = new RecordedFrames(this.store, flightId, known.startedAt + positionMs);
    // The clock starts once the first page is read, so the first frame is on time; meanwhile another start may have won.
    await frames.firstPage;
    const winner = this.replays.get(id);
    if (winner !== undefined) return { ok: true, state: this.state(winner, clocks.monotonicMs()) };
    if (frames.readError !== null) return { ok: false, error: { code: "drone_unavailable", message: `cannot read ${flightId}'s frames from the flight recorder (${frames.readError}): try again`, field: "data.flight" } };
    const now = clocks.monotonicMs();
    const cursor = new ReplayCursor({ durationMs, speed: options.speed ?? 1, positionMs, nowMs: now });
    const replay: Replay = {
      id,
      flight: known,
      cursor,
      frames,
      seq: -1,
      latest: null,
      showNext: true,
      endAnnounced: false,
      lastWatchedMs: now,
      readFailing: false,
    };
    this.replays.set(id, replay);
    this.streams.add(id, known.drone);
    this.logger.info({ event: "replay_started", drone: id, flight: flightId, speed: cursor.speed });
    this.streams.announceVehicle(id, encodeMessage("vehicle", { drone: id, change: "added", kind: "replay", flight: flightId, recordedDrone: known.drone }));
    this.announceState(replay, now);
    return { ok: true, state: this.state(replay, now) };
  }

  /** Changes a replay's speed, pause or position at `nowMs`; its viewers are told where it stands now. */
  control(id: string, change: ReplayChange, nowMs: number): ReplayOutcome {
    const replay = this.replays.get(id);
    if (replay === undefined) return noReplay(id, this.ids);
    const { cursor } = replay;
    if (change.speed !== undefined) cursor.setSpeed(change.speed, nowMs);
    if (change.positionMs !== undefined) {
      cursor.seek(change.positionMs, nowMs);
      replay.frames.restart(replay.flight.startedAt + cursor.positionMs(nowMs));
      replay.showNext = true;
      replay.endAnnounced = false;
    }
    if (change.paused !== undefined) cursor.setPaused(change.paused, nowMs);
    this.announceState(replay, nowMs);
    return { ok: true, state: this.state(replay, nowMs) };
  }

  /** Ends a replay for everybody: its viewers hear why (`vehicle` removed), and its id is free again. */
  stop(id: string, reason: string, nowMs: number): ReplayOutcome {
    const replay = this.replays.get(id);
    if (replay === undefined) return noReplay(id, this.ids);
    const state = { ...this.state(replay, nowMs), ended: true };
    this.remove(replay, reason);
    return { ok: true, state };
  }

  /**
   * One tick at `nowMs` (flight clock) and `wallMs`: each replay's frames
   * that came due, as the replay stream's own (seq, time, drone), oldest
   * first; a replay reaching its end is announced once; one unwatched for
   * `replayIdleSeconds` ends.
   */
  step(nowMs: number, wallMs: number): TickEntry[] {
    const entries: TickEntry[] = [];
    for (const replay of [...this.replays.values()]) {
      if (this.streams.watched(replay.id)) replay.lastWatchedMs = nowMs;
      else if (nowMs - replay.lastWatchedMs >= replayIdleSeconds * 1000) {
        this.remove(replay, `nobody watched it for ${replayIdleSeconds} s`);
        continue;
      }
      this.watchReads(replay);
      const position = replay.cursor.positionMs(nowMs);
      const due = replay.frames.take(replay.flight.startedAt + position);
      if (due.length === 0 && replay.showNext) {
        const next = replay.frames.takeNext();
        if (next !== null) due.push(next);
      }
      if (due.length > 0) replay.showNext = false;
      const epoch = this.streams.epoch(replay.id);
      for (const row of due) {
        replay.seq++;
        const frame = replayFrame(replay.id, replay.seq, wallMs, row.data);
        replay.latest = frame;
        entries.push({ drone: replay.id, seq: replay.seq, epoch, dataJson: JSON.stringify(frame) });
      }
      if (!replay.endAnnounced && replay.cursor.ended(nowMs) && replay.frames.done) {
        replay.endAnnounced = true;
        this.announceState(replay, nowMs);
      }
    }
    return entries;
  }

  private remove(replay: Replay, reason: string): void {
    this.replays.delete(replay.id);
    const { id, flight } = replay;
    this.logger.info({ event: "replay_ended", drone: id, reason });
    this.streams.announceVehicle(id, encodeMessage("vehicle", { drone: id, change: "removed", kind: "replay", flight: flight.id, recordedDrone: flight.drone, reason }));
    this.streams.remove(id);
    this.gone(id);
  }

  /** Logs the first page read that failed in a streak, and notes when reads work again. */
  private watchReads(replay: Replay): void {
    const error = replay.frames.readError;
    if (error === null) replay.readFailing = false;
    else if (!replay.readFailing) {
      replay.readFailing = true;
      this.logger.warn({ event: "replay_read_failed", drone: replay.id, message: `cannot read ${replay.flight.id}'s frames (${error}): the replay waits and tries again` });
    }
  }

  private announceState(replay: Replay, nowMs: number): void {
    this.streams.publishNotice(replay.id, encodeMessage("replay", this.state(replay, nowMs)));
  }

  private state(replay: Replay, nowMs: number): ReplayStateData {
    const { cursor, flight } = replay;
    return {
      drone: replay.id,
      flight: flight.id,
      recordedDrone: flight.drone,
      speed: cursor.speed,
      paused: cursor.paused,
      positionMs: Math.round(cursor.positionMs(nowMs)),
      durationMs: cursor.durationMs,
      ended: cursor.ended(nowMs) && replay.frames.done,
    };
  }
}

/**
 * A recorded frame as the replay vehicle's: its own drone id, seq and time
 * (server time now, as every frame), nobody piloting it, and the recorded
 * frame's seq and time in `recorded`. Everything else is as recorded.
 */
function replayFrame(id: string, seq: number, wallMs: number, recordedJson: string): TelemetryData {
  const { pilotUser: _user, pilotName: _name, ...recorded } = JSON.parse(recordedJson) as TelemetryData;
  return { ...recorded, drone: id, seq, time: wallMs, pilot: null, recorded: { seq: recorded.seq, time: recorded.time } };
}

function unknownFlight(flightId: string): ReplayOutcome {
  return { ok: false, error: { code: "unknown_flight", message: `no recorded flight ${JSON.stringify(flightId)} (GET /api/flights lists them)`, field: "data.flight" } };
}

function noReplay(id: string, playing: readonly string[]): ReplayOutcome {
  const list = playing.length === 0 ? "none is playing" : `playing: ${playing.join(", ")}`;
  return { ok: false, error: { code: "unknown_drone", message: `no replay ${JSON.stringify(id)} on this server (${list}): start one with replay_start`, field: "data.drone" } };
}
