/**
 * The MAVLink vehicles a server flies (`--mavlink NAME=URL`): one
 * `MavlinkVehicle` and one link per entry, and their counters as `/metrics`
 * families. In a cluster every node is given the same vehicles and only the
 * node that owns one holds its link: the links are reconciled with ownership
 * four times a second, and every write is fenced by it (a node whose claim
 * lapsed sends nothing, not even a heartbeat, before it closes the link).
 *
 * Owns only that composition; the vehicle decides, the link carries bytes,
 * the broker says who owns what.
 */
import type { LatLon } from "../../core/vehicle/geodesy.ts";
import { defaultMavlinkVehicleOptions, MavlinkVehicle, type GcsFailsafe } from "../../core/vehicle/mavlink/vehicle.ts";
import type { FenceUpload } from "../../core/vehicle/mavlink/vehicle-fence.ts";
import type { Logger } from "../observability/log.ts";
import type { MetricFamily } from "../observability/registry.ts";
import { MavlinkTcpLink, type LinkStatus } from "./link.ts";
import { MavlinkUdpLink } from "./udp-link.ts";
import type { MavlinkEndpoint } from "./url.ts";

/** One `--mavlink NAME=URL`. */
export interface MavlinkVehicleSpec {
  /** The id clients fly it by. */
  name: string;
  /** The URL as given, for status pages. */
  url: string;
  endpoint: MavlinkEndpoint;
  /** The autopilot's MAVLink system id: the only one read and commanded. */
  systemId: number;
  /** Altitude `takeoff` climbs to, metres above home. */
  takeoffAltitudeMetres: number;
  /** Upload `--geofence-polygon` to the autopilot's fence list on every link-up (`fence=upload`). */
  uploadFence: boolean;
}

/** A vehicle's settings when its `--mavlink` entry names none: system 1, take off to 10 m. */
export const defaultVehicleSettings = { systemId: 1, takeoffAltitudeMetres: 10, uploadFence: false } as const;

/** A MAVLink vehicle's health as `/healthz` reports it. */
export interface VehicleHealth {
  id: string;
  url: string;
  link: "up" | "lost";
  /** Whether the autopilot acts on its own when skyport's heartbeat stops (FS_GCS_ENABLE), `unknown` until it answered. */
  gcsFailsafe: GcsFailsafe;
  /** The geofence polygon on the autopilot (`fence=upload`): `off` when it is not uploaded, else where this link-up's upload stands. */
  fence: "off" | FenceUpload;
  /** What an operator should fix before flying, in words. */
  warnings: string[];
}

/** skyport's MAVLink system id as a ground station unless `--gcs-system-id` says otherwise: 255, what QGroundControl and Mission Planner use and ArduPilot's SYSID_MYGCS expects. */
export const defaultGcsSystemId = 255;

/** How often links are opened or closed to follow ownership, ms: well inside the 2.5 s a claim stays valid. */
const reconcileMilliseconds = 250;

export class MavlinkLinks {
  readonly vehicles: MavlinkVehicle[];
  private readonly links: (MavlinkTcpLink | MavlinkUdpLink)[] = [];
  /** Whether each link is started (this node holds it). */
  private readonly holding: boolean[] = [];
  private reconcileTimer: ReturnType<typeof setInterval> | null = null;
  private logger: Logger | null = null;
  private holds: (drone: string) => boolean = () => true;

  /** `geofencePolygon`: the polygon every vehicle must stay inside as well (`--geofence-polygon`), or null. */
  constructor(
    private readonly specs: readonly MavlinkVehicleSpec[],
    private readonly gcsSystemId: number = defaultGcsSystemId,
    geofencePolygon: readonly LatLon[] | null = null,
  ) {
    const geofence = { ...defaultMavlinkVehicleOptions.geofence, polygon: geofencePolygon };
    this.vehicles = specs.map((spec) => new MavlinkVehicle(spec.name, { gcsSystemId, systemId: spec.systemId, takeoffAltitudeMetres: spec.takeoffAltitudeMetres, geofence, uploadFence: spec.uploadFence }));
  }

  /**
   * Connects the links this node holds; `nowSeconds` is the flight clock the
   * fleet advances vehicles with; `holds` says whether this node owns a
   * vehicle now (alone: always); `onPacket` hears every valid packet of each
   * vehicle (the flight recorder's `.tlog`).
   */
  start(nowSeconds: () => number, logger: Logger, holds: (drone: string) => boolean = () => true, onPacket?: (vehicle: string, bytes: Uint8Array) => void): void {
    this.logger = logger;
    this.holds = holds;
    this.specs.forEach((spec, index) => {
      const vehicle = this.vehicles[index]!;
      const { endpoint } = spec;
      const gcsSystemId = this.gcsSystemId;
      const mayCommand = () => holds(spec.name);
      const tap = onPacket === undefined ? {} : { onPacket: (bytes: Uint8Array) => onPacket(spec.name, bytes) };
      const link =
        endpoint.transport === "tcp"
          ? new MavlinkTcpLink({ vehicle, endpoint: { ...endpoint, transport: "tcp" }, gcsSystemId, nowSeconds, logger, mayCommand, ...tap })
          : new MavlinkUdpLink({ vehicle, endpoint: { ...endpoint, transport: endpoint.transport }, gcsSystemId, nowSeconds, logger, mayCommand, ...tap });
      this.links.push(link);
      this.holding.push(false);
    });
    this.reconcile();
    this.reconcileTimer = setInterval(() => this.reconcile(), reconcileMilliseconds);
  }

  stop(): void {
    if (this.reconcileTimer !== null) clearInterval(this.reconcileTimer);
    this.reconcileTimer = null;
    this.links.forEach((link, index) => {
      link.stop();
      this.holding[index] = false;
    });
  }

  /** Opens the links of vehicles this node owns now and closes the others, so another node can hold them. */
  private reconcile(): void {
    this.links.forEach((link, index) => {
      const vehicle = this.vehicles[index]!;
      const owned = this.holds(vehicle.id);
      if (owned === this.holding[index]) return;
      this.holding[index] = owned;
      if (owned) {
        this.logger?.info({ event: "mavlink_link_taken", vehicle: vehicle.id, url: this.specs[index]!.url });
        link.start();
        return;
      }
      link.stop();
      // Another node flies it now: what this node heard and queued is stale; the fleet already failed its commands.
      vehicle.disconnected(`another node flies ${vehicle.id} now`);
      vehicle.takeEvents();
      vehicle.takeOutgoing();
      this.logger?.warn({ event: "mavlink_link_released", vehicle: vehicle.id, url: this.specs[index]!.url, reason: "this node no longer owns it" });
    });
  }

  status(): LinkStatus[] {
    return this.links.map((link) => link.status());
  }

  /** Each vehicle as `/healthz` shows it: its link, its GCS failsafe, and what an operator should fix. */
  health(): VehicleHealth[] {
    return this.vehicles.map((vehicle, index) => {
      const failsafe = vehicle.gcsFailsafe;
      const warnings =
        failsafe.state === "disabled"
          ? [`GCS failsafe off (FS_GCS_ENABLE=0): if skyport or the link dies, ${vehicle.id} will not act on its own; set FS_GCS_ENABLE to 1 (RTL) or 5 (Land)`]
          : [];
      const fence = vehicle.fenceUpload ?? "off";
      if (fence === "failed") warnings.push(`the geofence polygon could not be uploaded to ${vehicle.id}: if skyport or the link dies, the autopilot will not keep it inside the polygon`);
      return { id: vehicle.id, url: this.specs[index]!.url, link: vehicle.linkUp ? "up" : "lost", gcsFailsafe: failsafe.state, fence, warnings };
    });
  }

  /** The links' counters for /metrics, one sample per vehicle. */
  families(): MetricFamily[] {
    const statuses = this.status();
    const per = (read: (s: LinkStatus) => number) => statuses.map((s) => ({ labels: { vehicle: s.vehicle }, value: read(s) }));
    const bad = statuses.flatMap((s) =>
      (
        [
          ["crc", s.codec.crcErrors],
          ["unknown_id", s.codec.unknownIds],
          ["decode", s.codec.decodeErrors],
          ["other_system", s.otherSystem],
        ] as const
      ).map(([reason, value]) => ({ labels: { vehicle: s.vehicle, reason }, value })),
    );
    return [
      { name: "skyport_mavlink_connected", type: "gauge", help: "1 while the MAVLink connection to the vehicle is open.", samples: per((s) => (s.connected ? 1 : 0)) },
      { name: "skyport_mavlink_reconnects_total", type: "counter", help: "MAVLink connections made after the first.", samples: per((s) => s.reconnects) },
      { name: "skyport_mavlink_packets_total", type: "counter", help: "MAVLink packets received with a valid CRC.", samples: per((s) => s.codec.packets) },
      { name: "skyport_mavlink_v1_frames_total", type: "counter", help: "MAVLink v1 frames received (read all the same).", samples: per((s) => s.codec.v1Frames) },
      { name: "skyport_mavlink_bad_packets_total", type: "counter", help: "MAVLink input not used, by reason: crc, unknown_id, decode, other_system.", samples: bad },
    ];
  }
}
