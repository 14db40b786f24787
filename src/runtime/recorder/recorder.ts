/**
 * The flight recorder: what the flight service hands it (frames, commands
 * and their answers and ends, events) becomes rows, written in batches off
 * the tick by a writer that flushes at most every `flushMilliseconds`.
 *
 * Owns the queue, the writer, the per-vehicle flight segmentation and frame
 * decimation (pure, in `src/core/recorder/`), and the degraded mode: when
 * the store fails, rows wait (frames up to a cap, then the oldest are
 * dropped and counted), the failure is counted and logged once per streak,
 * and flying goes on. It never touches a socket and never decides flight
 * rules. Commands and events are flushed promptly (the next turn of the
 * event loop), so a committed command survives a `kill -9`.
 *
 * A mission message (upload, start, pause, resume, clear) is recorded as a
 * command of its vehicle, and a mission's progress as a `mission_progress`
 * event whenever its state or current item changes. Commands that ended on
 * the ground in the `preflightCommandSeconds` before a flight opens (a
 * mission uploaded and started, a refused takeoff) belong to that flight:
 * they are what led to it.
 */
import { FlightSegmenter, type FlightSummary } from "../../core/recorder/flights.ts";
import { FrameSampler } from "../../core/recorder/sampler.ts";
import type { CommandOrigin, DroneOp, OpResult } from "../../core/fleet/ops.ts";
import type { MissionProgress } from "../../core/mission/mission.ts";
import type { TelemetryData } from "../../../protocol/index.ts";
import type { Clocks } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import type { MetricFamily } from "../observability/registry.ts";
import { emptyBatch, type CommandRow, type FlightRow, type RecorderStore, type StreamRow, type WriteBatch } from "./store.ts";

/** How often the writer flushes frames, milliseconds: the most frames a `kill -9` loses. */
export const flushMilliseconds = 250;

/** Frames kept waiting while the store fails; past it the oldest are dropped (counted). At 100 drones x 10 Hz, a minute. */
const maxQueuedFrames = 60_000;
/** A command that ended on the ground this long before a flight opened, seconds, belongs to that flight (what led to it). */
const preflightCommandSeconds = 300;
/** Ground commands remembered per vehicle for its next flight; older ones stay the vehicle's alone. */
const maxPreflightCommands = 50;

/** MAVLink packets kept waiting while the store fails; past it the oldest are dropped (counted). A copter's streams, some 50 a second, for 20 minutes. */
const maxQueuedPackets = 60_000;

/** Frames and events of one vehicle held while a takeover reads the store (it answers in milliseconds): at 100 Hz, 20 s. */
const maxHeldDuringTakeover = 2000;

/** Seconds after a flight closed during which an event of its vehicle still belongs to it (the `landed` event follows the landed frame). */
const lateEventMilliseconds = 2000;

/** The recorder's share of the configuration. */
export interface RecorderSettings {
  /** Frames kept per second per flying vehicle (the telemetry rate keeps all). */
  recordHz: number;
}

/** What the flight service tells the recorder: the seam it records at, for every kind of vehicle. */
export interface FlightRecorder {
  /** A frame of a vehicle flown here, as published. */
  frame(epoch: string, data: TelemetryData, dataJson: string): void;
  /** A client's command or mission message reached this node; returns the handle its answer is recorded under. */
  commandReceived(op: RecordedOp): string;
  /** The command's `ack` or `error`. */
  commandAnswered(handle: string, result: OpResult): void;
  /** A command of a vehicle flown here completed or failed. */
  commandEnded(drone: string, origin: CommandOrigin, status: "completed" | "failed", reason: string | undefined): void;
  /** A lease change or event of a vehicle flown here (`details`: the wire data's other facts). */
  event(drone: string, kind: string, message: string, details: object): void;
  /** A mission's progress as the vehicle reports it: recorded when its state or current item changes. */
  missionProgress(drone: string, progress: MissionProgress): void;
  /** A MAVLink packet heard from a vehicle, raw: kept while it is in a flight (its `.tlog`). */
  mavlinkPacket(drone: string, bytes: Uint8Array): void;
  /**
   * In a cluster, this node flies the vehicle from now on (another node
   * stopped answering, or the cluster started): the flight the node before
   * left open carries on here, and its unfinished commands end as failed
   * with `reason`.
   */
  takeOver(drone: string, reason: string): void;
}

/** The ops recorded as commands: flight commands and mission messages. */
export type RecordedOp = Extract<DroneOp, { kind: "command" | "mission" }>;

/** Where one vehicle's recording stands. */
interface VehicleRecording {
  segmenter: FlightSegmenter;
  sampler: FrameSampler;
  /** The last flight that closed, and when, for events that trail its last frame. */
  lastEnded: FlightSummary | null;
  stream: StreamRow | null;
  /** While a takeover reads the store: the vehicle's frames and events, in order, to record once it answered. */
  held: Array<() => void> | null;
  /** Commands that ended on the ground since its last flight, oldest first: the next flight's if it opens soon. */
  groundCommands: CommandRow[];
  /** The mission state and item last recorded (`state:current`), so progress is recorded only when it changes. */
  lastProgress: string | null;
}

/** Counters for `/metrics`. */
export interface RecorderCounters {
  framesWritten: number;
  framesDropped: number;
  packetsWritten: number;
  packetsDropped: number;
  writeFailures: number;
  batchesWritten: number;
}

export class Recorder implements FlightRecorder {
  private readonly vehicles = new Map<string, VehicleRecording>();
  private batch: WriteBatch = emptyBatch();
  /** Commands not ended yet, by handle: rows rewritten as they change. */
  private readonly openCommands = new Map<string, CommandRow>();
  private readonly dirtyFlights = new Map<string, FlightSummary>();
  private readonly dirtyCommands = new Set<string>();
  /** Commands ended (or refused) since the last flush, kept until it writes them. */
  private readonly endedCommands = new Map<string, CommandRow>();
  /** The stream positions last written, to skip flushes that would change nothing. */
  private lastStreams = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private promptFlush: ReturnType<typeof setTimeout> | null = null;
  /** The flushes, one after another: each call's promise settles once everything queued before it was written (or failed). */
  private flushes: Promise<void> = Promise.resolve();
  private failing = false;
  /** A batch is being written now. */
  private writing = false;
  readonly counters: RecorderCounters = { framesWritten: 0, framesDropped: 0, packetsWritten: 0, packetsDropped: 0, writeFailures: 0, batchesWritten: 0 };

  constructor(
    readonly store: RecorderStore,
    private readonly settings: RecorderSettings,
    private readonly logger: Logger,
    private readonly clocks: Clocks,
  ) {}

  /** Starts the writer's timer. */
  start(): void {
    // A write still in progress (a slow database) is not queued behind again: the next tick's flush takes it all.
    this.timer ??= setInterval(() => {
      if (!this.writing) void this.flush();
    }, flushMilliseconds);
  }

  /** Stops the writer after a last flush, and closes the store. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.promptFlush) clearTimeout(this.promptFlush);
    this.timer = this.promptFlush = null;
    await this.flush();
    await this.store.close();
  }

  /** Carries on a flight recorded before a restart (the vehicle is airborne again where it was). */
  resumeFlight(flight: FlightSummary, position: { x: number; y: number; z: number }, stream: StreamRow): void {
    const recording = this.recording(flight.drone);
    recording.segmenter.resume(flight, position);
    recording.stream = stream;
  }

  // ------------------------------------------------------------ what the flight service hands in

  frame(epoch: string, data: TelemetryData, dataJson: string): void {
    const recording = this.recording(data.drone);
    if (recording.held !== null) return this.hold(recording, () => this.frame(epoch, data, dataJson));
    const { flight, ended } = recording.segmenter.observe({
      time: data.time,
      state: data.state,
      position: data.position,
      battery: data.battery,
      pilot: data.pilot,
      pilotUser: data.pilotUser ?? null,
      emergencyStopped: data.flags.emergencyStopped,
    });
    if (flight !== null && flight.frames === 1) this.attachOpenCommands(data.drone, flight.id);
    const owner = flight ?? ended;
    if (owner !== null) this.dirtyFlights.set(owner.id, owner);
    if (ended !== null) recording.lastEnded = ended;
    recording.stream = { drone: data.drone, epoch, seq: data.seq, time: data.time, flightId: flight?.id ?? null, data: dataJson };
    // The frame that closes a flight is always kept: it is the flight's last.
    if (!recording.sampler.keep(data.time, flight !== null) && ended === null) return;
    if (this.batch.frames.length >= maxQueuedFrames) {
      this.batch.frames.shift();
      this.counters.framesDropped++;
    }
    this.batch.frames.push({ drone: data.drone, epoch, seq: data.seq, time: data.time, flightId: owner?.id ?? null, data: dataJson });
  }

  commandReceived(op: RecordedOp): string {
    const handle = Bun.randomUUIDv7();
    const row: CommandRow = {
      id: handle,
      drone: op.drone,
      flightId: this.flightOf(op.drone),
      session: op.session,
      // The signed-in user (a JWT's `sub`); shared tokens and the open mode name nobody.
      userName: op.identity.source === "jwt" ? op.identity.user : null,
      requestId: op.requestId === undefined ? null : JSON.stringify(op.requestId),
      request: JSON.stringify(op.kind === "command" ? { label: op.label, form: op.form, command: op.command } : { label: op.label, form: "json", mission: op.command }),
      receivedAt: this.clocks.wallMs(),
      answer: null,
      answerDetail: null,
      answeredAt: null,
      outcome: null,
      outcomeReason: null,
      endedAt: null,
      durationMs: null,
    };
    this.openCommands.set(handle, row);
    this.changed(row);
    return handle;
  }

  commandAnswered(handle: string, result: OpResult): void {
    const row = this.openCommands.get(handle);
    if (!row) return;
    row.answer = result.ok ? "ack" : "error";
    row.answerDetail = JSON.stringify(result.ok ? result.data : result.error);
    row.answeredAt = this.clocks.wallMs();
    // A refused command never ends: its row is final.
    if (!result.ok) {
      this.openCommands.delete(handle);
      this.endedOnGround(row);
    }
    this.changed(row);
  }

  commandEnded(drone: string, origin: CommandOrigin, status: "completed" | "failed", reason: string | undefined): void {
    const requestId = origin.requestId === undefined ? null : JSON.stringify(origin.requestId);
    // Dones of one vehicle arrive in the order its commands were taken: the oldest acked match is this one.
    for (const [handle, row] of this.openCommands) {
      if (row.drone !== drone || row.session !== origin.session || row.requestId !== requestId || row.answer !== "ack") continue;
      if (JSON.parse(row.request).label !== origin.label) continue;
      const now = this.clocks.wallMs();
      row.outcome = status;
      row.outcomeReason = reason ?? null;
      row.endedAt = now;
      row.durationMs = now - row.receivedAt;
      this.openCommands.delete(handle);
      this.endedOnGround(row);
      this.changed(row);
      return;
    }
  }

  event(drone: string, kind: string, message: string, details: object): void {
    this.eventAt(this.clocks.wallMs(), drone, kind, message, details);
  }

  private eventAt(time: number, drone: string, kind: string, message: string, details: object): void {
    const recording = this.recording(drone);
    if (recording.held !== null) return this.hold(recording, () => this.eventAt(time, drone, kind, message, details));
    if (kind === "link_lost") {
      const ended = recording.segmenter.linkLost(time);
      if (ended !== null) {
        recording.lastEnded = ended;
        this.dirtyFlights.set(ended.id, ended);
      }
    }
    const late = recording.lastEnded !== null && recording.lastEnded.endedAt! >= time - lateEventMilliseconds ? recording.lastEnded.id : null;
    const flightId = recording.segmenter.current?.id ?? late;
    this.batch.events.push({ id: Bun.randomUUIDv7(), drone, flightId, time, kind, message, details: JSON.stringify(details) });
    this.soon();
  }

  missionProgress(drone: string, progress: MissionProgress): void {
    const recording = this.recording(drone);
    const key = `${progress.state}:${progress.current}`;
    if (recording.lastProgress === key) return;
    recording.lastProgress = key;
    const reason = progress.reason === undefined ? "" : `: ${progress.reason}`;
    const message = `mission ${progress.state} at item ${progress.current}, ${progress.reached.length} reached, ${Math.round(progress.distanceToGo)} m to go${reason}`;
    this.event(drone, "mission_progress", message, progress);
  }

  mavlinkPacket(drone: string, bytes: Uint8Array): void {
    const flightId = this.vehicles.get(drone)?.segmenter.current?.id;
    if (flightId === undefined) return;
    if (this.batch.packets.length >= maxQueuedPackets) {
      this.batch.packets.shift();
      this.counters.packetsDropped++;
    }
    this.batch.packets.push({ id: Bun.randomUUIDv7(), drone, flightId, time: this.clocks.wallMs(), bytes: Buffer.from(bytes).toString("base64") });
  }

  takeOver(drone: string, reason: string): void {
    const recording = this.recording(drone);
    if (recording.held !== null) return;
    recording.held = [];
    void this.carryOn(drone, reason, recording);
  }

  /**
   * A takeover's reads: the commands the node before never ended end as
   * failed, and the flight it left open (the vehicle's stream row names it)
   * carries on here unless one is open here already. A store that fails is
   * logged and the vehicle records on: a flight in progress then opens anew.
   * Then what was held is recorded, in order.
   */
  private async carryOn(drone: string, reason: string, recording: VehicleRecording): Promise<void> {
    try {
      const failed = await this.store.failUnfinishedCommands(reason, this.clocks.wallMs(), drone);
      const stream = (await this.store.streams()).find((row) => row.drone === drone) ?? null;
      const flight = stream?.flightId ? await this.store.flight(stream.flightId) : null;
      const carried = stream !== null && flight !== null && flight.endedAt === null && recording.segmenter.current === null;
      if (carried) {
        this.resumeFlight({ ...flight, endReason: null }, (JSON.parse(stream.data) as TelemetryData).position, stream);
        // Commands received while the reads ran found no flight yet: they belong to this one.
        this.attachOpenCommands(drone, flight.id);
      }
      this.logger.info({ event: "recorder_takeover", drone, flight: carried ? flight.id : null, commandsFailed: failed });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ event: "recorder_takeover_failed", drone, message: `could not read what was recorded of ${drone} before this node flew it (${message}): a flight in progress is recorded as a new one` });
    } finally {
      const held = recording.held ?? [];
      recording.held = null;
      for (const record of held) record();
    }
  }

  /** Keeps one frame or event of a vehicle whose takeover is reading the store; past the bound it is dropped, and counted. */
  private hold(recording: VehicleRecording, record: () => void): void {
    if (recording.held!.length < maxHeldDuringTakeover) recording.held!.push(record);
    else this.counters.framesDropped++;
  }

  // ------------------------------------------------------------ the writer

  /**
   * Writes what is queued in one transaction, after any flush in progress.
   * On failure the rows wait for the next flush (frames up to the cap); the
   * failure is counted, and logged once until a flush succeeds again.
   */
  flush(): Promise<void> {
    // A flush that threw (never a store failure: those are caught) does not stop the ones after it.
    return (this.flushes = this.flushes.catch(() => undefined).then(() => this.writeQueued()));
  }

  /** `/metrics` families of the recorder. */
  families(): MetricFamily[] {
    const c = this.counters;
    return [
      { name: "skyport_recorder_frames_written_total", type: "counter", help: "Telemetry frames the flight recorder wrote.", samples: [{ value: c.framesWritten }] },
      { name: "skyport_recorder_packets_written_total", type: "counter", help: "MAVLink packets the flight recorder wrote (for .tlog exports).", samples: [{ value: c.packetsWritten }] },
      { name: "skyport_recorder_packets_dropped_total", type: "counter", help: "MAVLink packets the flight recorder dropped because the database failed for too long.", samples: [{ value: c.packetsDropped }] },
      { name: "skyport_recorder_frames_dropped_total", type: "counter", help: "Telemetry frames the flight recorder dropped because the database failed for too long.", samples: [{ value: c.framesDropped }] },
      { name: "skyport_recorder_write_failures_total", type: "counter", help: "Flight recorder batches the database refused (recording degrades, flying goes on).", samples: [{ value: c.writeFailures }] },
      { name: "skyport_recorder_degraded", type: "gauge", help: "1 while the flight recorder's last write failed.", samples: [{ value: this.failing ? 1 : 0 }] },
    ];
  }

  private async writeQueued(): Promise<void> {
    const batch = this.batch;
    this.batch = emptyBatch();
    batch.flights.push(...[...this.dirtyFlights.values()].map(flightRow));
    for (const handle of this.dirtyCommands) {
      const row = this.openCommands.get(handle) ?? this.endedCommands.get(handle);
      if (row) batch.commands.push({ ...row });
    }
    for (const recording of this.vehicles.values()) if (recording.stream) batch.streams.push(recording.stream);
    const dirtyFlights = new Map(this.dirtyFlights);
    this.dirtyFlights.clear();
    this.dirtyCommands.clear();
    this.endedCommands.clear();
    if (batch.frames.length + batch.flights.length + batch.commands.length + batch.events.length + batch.packets.length === 0 && !this.streamsMoved(batch.streams)) return;
    this.writing = true;
    try {
      await this.store.write(batch);
      this.counters.framesWritten += batch.frames.length;
      this.counters.packetsWritten += batch.packets.length;
      this.counters.batchesWritten++;
      this.lastStreams = new Map(batch.streams.map((s) => [s.drone, s.seq]));
      if (this.failing) this.logger.info({ event: "recorder_recovered", message: "the flight recorder writes again" });
      this.failing = false;
    } catch (error) {
      this.counters.writeFailures++;
      if (!this.failing) {
        const message = error instanceof Error ? error.message : String(error);
        this.logger.error({ event: "recorder_write_failed", store: this.store.kind, message: `the flight recorder cannot write (${message}): recording is degraded, flying goes on` });
      }
      this.failing = true;
      this.requeue(batch, dirtyFlights);
    } finally {
      this.writing = false;
    }
  }

  private streamsMoved(streams: readonly StreamRow[]): boolean {
    return streams.some((s) => this.lastStreams.get(s.drone) !== s.seq);
  }

  /** A failed batch's rows go back in front of what was queued since. */
  private requeue(batch: WriteBatch, flights: Map<string, FlightSummary>): void {
    const frames = [...batch.frames, ...this.batch.frames];
    const over = frames.length - maxQueuedFrames;
    if (over > 0) this.counters.framesDropped += over;
    this.batch.frames = over > 0 ? frames.slice(over) : frames;
    this.batch.events = [...batch.events, ...this.batch.events];
    const packets = [...batch.packets, ...this.batch.packets];
    const packetsOver = packets.length - maxQueuedPackets;
    if (packetsOver > 0) this.counters.packetsDropped += packetsOver;
    this.batch.packets = packetsOver > 0 ? packets.slice(packetsOver) : packets;
    for (const [id, flight] of flights) if (!this.dirtyFlights.has(id)) this.dirtyFlights.set(id, flight);
    for (const row of batch.commands) {
      // A row that changed again since (it ended meanwhile) is newer than the copy that failed.
      if (!this.openCommands.has(row.id) && !this.endedCommands.has(row.id)) this.endedCommands.set(row.id, row);
      this.dirtyCommands.add(row.id);
    }
  }

  /** A command row changed: written at the next prompt flush. */
  private changed(row: CommandRow): void {
    this.dirtyCommands.add(row.id);
    if (!this.openCommands.has(row.id)) this.endedCommands.set(row.id, row);
    this.soon();
  }

  /** Flushes on the next turn of the event loop (commands and events are never held for the timer). */
  private soon(): void {
    this.promptFlush ??= setTimeout(() => {
      this.promptFlush = null;
      void this.flush();
    }, 0);
  }

  /** Commands of a vehicle taken before its flight opened (the takeoff) belong to that flight. */
  /** A flight opened: the vehicle's open commands, and those that ended on the ground shortly before, are its. */
  private attachOpenCommands(drone: string, flightId: string): void {
    for (const row of this.openCommands.values()) {
      if (row.drone === drone && row.flightId === null) {
        row.flightId = flightId;
        this.dirtyCommands.add(row.id);
      }
    }
    const recording = this.recording(drone);
    const since = this.clocks.wallMs() - preflightCommandSeconds * 1000;
    for (const row of recording.groundCommands) {
      if (row.receivedAt < since) continue;
      row.flightId = flightId;
      this.changed(row);
    }
    recording.groundCommands = [];
  }

  /** A command row that ended outside any flight: remembered for the vehicle's next flight. */
  private endedOnGround(row: CommandRow): void {
    if (row.flightId !== null) return;
    const ground = this.recording(row.drone).groundCommands;
    ground.push(row);
    if (ground.length > maxPreflightCommands) ground.shift();
  }

  private flightOf(drone: string): string | null {
    return this.recording(drone).segmenter.current?.id ?? null;
  }

  private recording(drone: string): VehicleRecording {
    let recording = this.vehicles.get(drone);
    if (!recording) {
      recording = { segmenter: new FlightSegmenter(drone), sampler: new FrameSampler(this.settings.recordHz), lastEnded: null, stream: null, held: null, groundCommands: [], lastProgress: null };
      this.vehicles.set(drone, recording);
    }
    return recording;
  }
}

/** A flight summary as its row. */
function flightRow(flight: FlightSummary): FlightRow {
  return { ...flight };
}
