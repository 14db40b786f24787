/**
 * This node's view of the vehicles other nodes fly: their frames and
 * notices republished to this node's viewers, their latest frame for
 * `status`, `welcome` and the pilot lookups, their mission (the `mission`
 * and `mission_progress` messages a new viewer gets first), and the newest
 * state to carry on from when one of them is taken over.
 *
 * Owns only that view (no timer, no socket, no Redis): the broker delivers
 * what other nodes publish, and the flight service decides what to fly.
 */
import type { TelemetryData } from "../../../protocol/index.ts";
import type { TelemetryStreams } from "../telemetry-streams.ts";
import type { TickEntry } from "./broker.ts";

export class ClusterMirror {
  /** The latest frame of each vehicle another node flies, as received. */
  private readonly latest = new Map<string, TelemetryData>();
  /** The stream epoch of each of those frames (undefined: sent without one). */
  private readonly latestEpoch = new Map<string, string | undefined>();
  /** The latest `mission` and `mission_progress` messages of each vehicle another node flies that holds a mission. */
  private readonly missions = new Map<string, { mission: string; progress: string | null }>();

  constructor(
    private readonly streams: TelemetryStreams,
    private readonly ownedHere: (drone: string) => boolean,
  ) {}

  /** One tick of frames from the node flying those vehicles: kept for resume and published here. */
  ingestTick(timeMs: number, entries: readonly TickEntry[]): void {
    // Each frame is read once here (the latest one is kept for status and pilot lookups); one that is not
    // JSON is dropped before any viewer sees it, and the gap it leaves is handled like any lost frame.
    const parsed = new Map<TickEntry, TelemetryData>();
    for (const entry of entries) {
      if (this.ownedHere(entry.drone)) continue;
      const data = parseFrame(entry.dataJson);
      if (data !== null) parsed.set(entry, data);
    }
    for (const entry of this.streams.publishMirrored(timeMs, [...parsed.keys()])) {
      this.latest.set(entry.drone, parsed.get(entry)!);
      this.latestEpoch.set(entry.drone, entry.epoch);
    }
  }

  /** A lease or event (already JSON) from the node flying the vehicle, for this node's viewers. */
  ingestNotice(drone: string, text: string, lease: { pilot: string | null } | null, mission: "mission" | "cleared" | "progress" | null = null): void {
    if (!this.streams.has(drone)) return;
    if (mission === "mission") this.missions.set(drone, { mission: text, progress: null });
    else if (mission === "cleared") this.missions.delete(drone);
    else if (mission === "progress") {
      const known = this.missions.get(drone);
      if (known) known.progress = text;
    }
    const latest = this.latest.get(drone);
    if (lease !== null && latest) this.latest.set(drone, { ...latest, pilot: lease.pilot });
    this.streams.publishNotice(drone, text);
  }

  /** What another node's vehicle's mission is, as a new viewer here gets it: the `mission` message, then `mission_progress` once it started. */
  missionMessages(drone: string): string[] {
    if (this.ownedHere(drone)) return [];
    const known = this.missions.get(drone);
    return known === undefined ? [] : known.progress === null ? [known.mission] : [known.mission, known.progress];
  }

  /** The mission shared storage holds for another node's vehicle (this node started late or reconnected): replaces what was heard. */
  knowMission(drone: string, mission: string | null, progress: string | null): void {
    if (mission === null) this.missions.delete(drone);
    else this.missions.set(drone, { mission, progress });
  }

  /**
   * The newest frame another node published for a vehicle after this node
   * last took it over (this node was fenced and someone else flew it), if
   * any: heard even while this node holds the vehicle's key.
   */
  heardSinceTakeover(drone: string): TelemetryData | undefined {
    return this.latest.get(drone);
  }

  /** The last frame of a vehicle another node flies, as received; undefined for one flown here. */
  frameOf(drone: string): TelemetryData | undefined {
    return this.ownedHere(drone) ? undefined : this.latest.get(drone);
  }

  /**
   * The newest frame of a vehicle this node takes over: the one shared
   * storage kept, or this node's own copy when that is newer (shared storage
   * lost its data). Seqs compare only within one stream epoch: when the copy
   * is of another epoch than the stream now (the history just read back
   * started a new one), the stored frame wins. Forgets the copy: the vehicle
   * is flown here from now on.
   */
  takeOver(drone: string, stored: TelemetryData | null): TelemetryData | null {
    const mirrored = this.latest.get(drone) ?? null;
    const mirroredEpoch = this.latestEpoch.get(drone);
    this.latest.delete(drone);
    this.latestEpoch.delete(drone);
    this.missions.delete(drone);
    const sameStream = mirroredEpoch === undefined || mirroredEpoch === this.streams.epoch(drone);
    if (mirrored !== null && (stored === null || (sameStream && mirrored.seq > stored.seq))) return mirrored;
    return stored;
  }
}

/** A frame's data as another node sent it, or null when it is not a JSON object. */
function parseFrame(dataJson: string): TelemetryData | null {
  try {
    const value: unknown = JSON.parse(dataJson);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as TelemetryData) : null;
  } catch {
    return null;
  }
}
