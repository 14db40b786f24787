/**
 * The Redis broker: many skyport nodes behaving as one server.
 *
 * Owns the cluster protocol on top of Redis: who simulates each drone (an
 * owner key per drone, SET NX with an expiry, renewed while alive, with a
 * fencing epoch per take), the fence (this node flies a drone only while its
 * last renewal is younger than the key's lifetime; every shared write
 * carries the epoch and Redis refuses a stale one), the telemetry every node
 * needs (one pub/sub message per tick per node, and a capped list per drone
 * for resume after a restart), operations forwarded to a drone's node with a
 * deadline, their replies and `done` messages routed back, the cluster-wide
 * pilot lease record, and pilot presence (an expiring key per session that
 * flies drones elsewhere, renewed by its node while the session is open). The flight rules stay in the fleet and the wire formats in
 * `bus-codec.ts`; this module only moves bytes and decides ownership. It
 * knows the node only as `ClusterEvents`. Keys and channels are listed in
 * docs/scaling.md.
 */
import type { Broker, ClusterEvents, ClusterStatus, MissionRecord, PilotOnNode, TickEntry } from "./broker.ts";
import type { DroneOp, OpResult } from "../../core/fleet/ops.ts";
import type { Logger } from "../observability/log.ts";
import {
  busSender,
  decodeBusMessage,
  decodeFrameData,
  decodeMissionRecord,
  decodeNodeMessage,
  decodeOwnerEpoch,
  decodeOwnerReport,
  decodePilotRecord,
  decodeStoredFrame,
  encodeMissionRecord,
  encodeNodeMessage,
  encodeNotice,
  encodePilotRecord,
  encodeSessionClosed,
  encodeStoredFrame,
  encodeTick,
  type NodeMessage,
} from "./bus-codec.ts";
import { busVersion, decodeAnnouncement, encodeAnnouncement, incompatibility, ownAnnouncement } from "./bus-version.ts";
import { claimValid, mayTake, missingKeysMeanDead, ownershipChange } from "./ownership.ts";
import { RedisLink } from "./redis-link.ts";
import { WriteFailures, type TrackedWrite } from "./write-failures.ts";

/** Every key and channel starts with this. */
const prefix = "skyport:";
const busChannel = `${prefix}bus`;
const nodeChannel = (node: string) => `${prefix}node:${node}`;
const ownerKey = (drone: string) => `${prefix}owner:${drone}`;
const framesKey = (drone: string) => `${prefix}frames:${drone}`;
const pilotKey = (drone: string) => `${prefix}pilot:${drone}`;
const missionKey = (drone: string) => `${prefix}mission:${drone}`;
const aliveKey = (node: string) => `${prefix}alive:${node}`;
const epochKey = (drone: string) => `${prefix}epoch:${drone}`;
const presenceKey = (session: string) => `${prefix}presence:${session}`;

/** How long a forwarded op may wait for the drone's node, milliseconds. */
const forwardTimeoutMilliseconds = 3000;
/**
 * How much earlier than the sender gives up the receiving node refuses a
 * forwarded op, milliseconds: the most two nodes' wall clocks may disagree
 * (NTP keeps them within a few ms). An op is executed before its sender
 * times out, or never, so it never gets a second answer.
 */
const clockSkewMilliseconds = 500;
/**
 * How much faster Redis's clock may run than this node's, as a fraction:
 * the claim is held for that much less than the key lives (1 %, 25 ms of a
 * 2.5 s key: far above a crystal's 50 ppm, room for a VM's clock slewing).
 */
const clockDriftAllowance = 0.01;
/** How often a node reads the other nodes' cluster protocol announcements, milliseconds. */
const peerCheckMilliseconds = 5000;
/** Most SCAN calls listing the alive keys: a cluster has a handful of nodes, never thousands. */
const maxScanCalls = 100;
/** Longest interval between ownership rounds, milliseconds. */
const maxRoundMilliseconds = 500;

/**
 * One ownership round, atomically: renew this node's liveness and the drones
 * it owns, take every drone nobody owns that this node may take (starting a
 * new fencing epoch for it: one more than both the stored counter and the
 * highest epoch this node knows, so epochs only grow, even after Redis
 * restarted empty and lost the counter), and report each drone's owner
 * (prefixed with `+` when this node just took it, empty when nobody owns it)
 * followed by each drone's epoch.
 * KEYS: the owner key of every drone, then the epoch key of every drone,
 * then this node's alive key.
 * ARGV: node id, owner key expiry ms, alive key expiry ms, then per drone
 * `1` if this node may take it, else `0`, then per drone the highest epoch
 * this node knows, then the alive key's value (the node's cluster protocol
 * announcement, bus-version.ts).
 */
const ownershipScript = `
local n = (#KEYS - 1) / 2
local reply = {}
for i = 1, n do
  local owner = redis.call('GET', KEYS[i])
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    reply[i] = owner
  elseif not owner and ARGV[3 + i] == '1' then
    local counter = tonumber(redis.call('GET', KEYS[n + i]) or '0')
    local known = tonumber(ARGV[3 + n + i]) or 0
    redis.call('SET', KEYS[n + i], tostring(math.max(counter, known) + 1))
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
    reply[i] = '+' .. ARGV[1]
  else
    reply[i] = owner or ''
  end
  reply[n + i] = redis.call('GET', KEYS[n + i]) or '0'
end
redis.call('SET', KEYS[#KEYS], ARGV[4 + 2 * n], 'PX', ARGV[3])
return reply`;

/**
 * Appends one tick's frames to each drone's capped list, each only if the
 * sender still owns the drone with the same fencing epoch (a stale owner's
 * frames are refused). Returns how many drones' frames were appended.
 * KEYS: per drone its frame list, owner key and epoch key (three each).
 * ARGV: capacity, node id, then per drone its entry and its epoch (two each).
 */
const appendFramesScript = `
local appended = 0
for i = 1, #KEYS / 3 do
  local k = (i - 1) * 3
  local a = 2 + (i - 1) * 2
  if redis.call('GET', KEYS[k + 2]) == ARGV[2] and redis.call('GET', KEYS[k + 3]) == ARGV[a + 2] then
    redis.call('RPUSH', KEYS[k + 1], ARGV[a + 1])
    redis.call('LTRIM', KEYS[k + 1], -tonumber(ARGV[1]), -1)
    appended = appended + 1
  end
end
return appended`;

/**
 * Sets (or, with an empty value, deletes) a drone's record (its pilot, its
 * mission), only if the sender still owns the drone with the same fencing
 * epoch. Returns 1 if written, 0 if refused. KEYS: the record's key, owner
 * key, epoch key. ARGV: node id, epoch, the record or ''.
 */
const fencedRecordScript = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] or redis.call('GET', KEYS[3]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[3]) end
return 1`;

/**
 * Refreshes the presence of this node's sessions that fly drones on other
 * nodes: each key names this node and expires like an owner key, so a
 * session this node stops vouching for (it closed, or the node died) is
 * absent within one key lifetime, whatever messages were lost.
 * KEYS: the presence key of every such session. ARGV: node id, expiry ms.
 */
const presenceScript = `
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
return #KEYS`;

/** Deletes the owner keys this node still holds (clean shutdown: others take over at once). */
const releaseScript = `
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]); released = released + 1 end
end
return released`;

interface PendingForward {
  answer(result: OpResult): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface RedisBrokerOptions {
  url: string;
  nodeId: string;
  droneIds: readonly string[];
  /** Seconds an owner key lasts unless renewed. */
  ownerLeaseSeconds: number;
  /** Frames kept per drone in Redis (and in each node's replay buffer). */
  replayFrames: number;
  logger: Logger;
  /** Monotonic milliseconds, for how long the link has been up and how old the last renewal is. @default performance.now */
  nowMs?: () => number;
  /** Wall-clock milliseconds, for a forwarded op's deadline (the only time nodes compare). @default Date.now */
  wallMs?: () => number;
}

export class RedisBroker implements Broker {
  readonly nodeId: string;
  readonly shared = true;
  /** The Redis this node shares drones through. */
  readonly url: string;
  private readonly link: RedisLink;
  private readonly owned = new Set<string>();
  /** Each drone's owner as of the last ownership round. */
  private readonly owners = new Map<string, string>();
  /** Each drone's fencing epoch as of the last ownership round: this node's shared writes carry it. */
  private readonly epochs = new Map<string, number>();
  /** When the last successful ownership round was sent, monotonic ms: the claims hold for one key lifetime from it. */
  private claimSentMs = Number.NEGATIVE_INFINITY;
  /** Whether the last frame append had some frames refused as stale: logged once per streak. */
  private framesRefused = false;
  /** The pilot of each drone simulated here, as last recorded in Redis: written again if Redis loses it. */
  private readonly pilotRecords = new Map<string, PilotOnNode>();
  private readonly pending = new Map<number, PendingForward>();
  /** Sessions here that sent ops to drones flown elsewhere, still open: this node vouches for them (`presenceScript`). */
  private readonly vouched = new Set<string>();
  private nextCorr = 1;
  private roundTimer: ReturnType<typeof setInterval> | null = null;
  private roundRunning = false;
  private readonly roundMs: number;
  private readonly ownerKeyMs: number;
  /** How long a renewal keeps this node's claims valid (the fence): the key's lifetime less the clock drift allowance. */
  private readonly claimMs: number;
  private events: ClusterEvents | null = null;
  private stopped = false;
  /** When the link last came up, monotonic ms (see `mayTake`). */
  private linkUpSinceMs = 0;
  private readonly nowMs: () => number;
  private readonly wallMs: () => number;
  /** Live nodes this node cannot share the cluster with, and why: while any runs, this node takes no drone. */
  private readonly incompatiblePeers = new Map<string, string>();
  /** When the peers' announcements were last read, monotonic ms. */
  private peersCheckedMs = Number.NEGATIVE_INFINITY;
  private readonly counters = { forwardedOps: 0, forwardFailures: 0, ticksPublished: 0, ticksReceived: 0, catchUps: 0 };
  private readonly writeFailures = new WriteFailures();

  constructor(private readonly options: RedisBrokerOptions) {
    this.nodeId = options.nodeId;
    this.url = options.url;
    const leaseMs = options.ownerLeaseSeconds * 1000;
    // Renew often enough, and expire early enough, that a dead node's drones
    // are taken over within the lease: expiry plus one round <= lease.
    this.roundMs = Math.min(maxRoundMilliseconds, leaseMs / 4);
    this.ownerKeyMs = Math.round(leaseMs - this.roundMs);
    this.claimMs = Math.floor(this.ownerKeyMs * (1 - clockDriftAllowance));
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.wallMs = options.wallMs ?? (() => Date.now());
    this.link = new RedisLink(options.url, { up: () => this.linkUp(), down: (reason) => this.linkDown(reason) }, options.logger);
  }

  /**
   * Registers the node (once), connects and starts the ownership rounds.
   * Resolves after the first connection attempt, up or not.
   */
  async start(events: ClusterEvents): Promise<void> {
    if (this.events) throw new Error(`RedisBroker.start: already started for node ${this.nodeId}; a broker serves one node and is started once`);
    this.events = events;
    events.useBroker(this);
    await this.link.subscribe(busChannel, (message) => this.onBus(message));
    await this.link.subscribe(nodeChannel(this.nodeId), (message) => this.onNodeMessage(message));
    await this.link.start();
    this.roundTimer = setInterval(() => void this.round(), this.roundMs);
  }

  /** Gives the drones back (other nodes take them over at once) and disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.roundTimer) clearInterval(this.roundTimer);
    const owned = [...this.owned].map(ownerKey);
    if (owned.length > 0 && this.link.up) await this.write("release_owned", "EVAL", [releaseScript, String(owned.length), ...owned, this.nodeId]);
    await this.write("alive_delete", "DEL", [aliveKey(this.nodeId)]);
    for (const [corr, pending] of this.pending) this.settle(corr, pending, unavailable("the server is shutting down"));
    this.link.stop();
  }

  status(): ClusterStatus {
    return {
      node: this.nodeId,
      redis: this.link.up ? "up" : "down",
      ownedDrones: [...this.owned].filter((drone) => this.owns(drone)),
      reconnects: this.link.reconnects,
      lastError: this.link.lastError,
      ...this.counters,
      writeFailures: this.writeFailures.total,
      busVersion,
      incompatiblePeers: [...this.incompatiblePeers].map(([node, reason]) => ({ node, reason })),
    };
  }

  // ------------------------------------------------------------ Broker

  /** Whether this node flies the drone now: it holds the key and its claim cannot have expired (`claimValid`). */
  owns(drone: string): boolean {
    return this.owned.has(drone) && claimValid(this.nowMs(), this.claimSentMs, this.claimMs);
  }

  ownerOf(drone: string): string | undefined {
    return this.owners.get(drone);
  }

  publishTick(timeMs: number, entries: readonly TickEntry[]): void {
    if (!this.link.up) return;
    this.link.publish(busChannel, encodeTick(this.nodeId, timeMs, entries));
    const keys: string[] = [];
    const args: string[] = [String(this.options.replayFrames), this.nodeId];
    for (const entry of entries) {
      keys.push(framesKey(entry.drone), ownerKey(entry.drone), epochKey(entry.drone));
      args.push(encodeStoredFrame(entry), String(this.epochs.get(entry.drone) ?? 0));
    }
    void this.write("frame_append", "EVAL", [appendFramesScript, String(keys.length), ...keys, ...args]).then((appended) => this.framesAppended(appended, entries.length));
    this.counters.ticksPublished++;
  }

  /** Redis refused a stale owner's frames (another node took the drone over): logged once per streak. */
  private framesAppended(appended: unknown, sent: number): void {
    const refused = typeof appended === "number" && appended < sent;
    if (refused && !this.framesRefused) this.options.logger.warn({ event: "stale_frames_refused", node: this.nodeId, refused: sent - appended, reason: "this node's fencing epoch is stale: another node owns the drone now" });
    this.framesRefused = refused;
  }

  publishNotice(drone: string, text: string): void {
    this.link.publish(busChannel, encodeNotice(this.nodeId, drone, text));
  }

  leaseChanged(drone: string, pilot: string | null, pilotNode: string | null): void {
    if (pilot === null) {
      this.pilotRecords.delete(drone);
      this.writePilotRecord(drone, "");
    } else {
      const record = { session: pilot, node: pilotNode ?? this.nodeId };
      this.pilotRecords.set(drone, record);
      this.writePilotRecord(drone, encodePilotRecord(record));
    }
  }

  /** Writes (or with '' deletes) a drone's pilot record, refused by Redis unless this node owns it with its epoch. */
  private writePilotRecord(drone: string, record: string): void {
    const epoch = String(this.epochs.get(drone) ?? 0);
    void this.write("pilot_record", "EVAL", [fencedRecordScript, "3", pilotKey(drone), ownerKey(drone), epochKey(drone), this.nodeId, epoch, record]);
  }

  missionChanged(drone: string, mission: MissionRecord | null): void {
    const epoch = String(this.epochs.get(drone) ?? 0);
    const record = mission === null ? "" : encodeMissionRecord(mission);
    void this.write("mission_record", "EVAL", [fencedRecordScript, "3", missionKey(drone), ownerKey(drone), epochKey(drone), this.nodeId, epoch, record]);
  }

  forward(op: DroneOp, answer: (result: OpResult, node?: string) => void): void {
    const owner = this.owners.get(op.drone);
    if (owner === this.nodeId) {
      // Fenced (its claim may have expired: Redis unreachable, or this process paused), or taking the drone over right now.
      return answer(unavailable(`this node holds ${op.drone} but does not fly it right now: its claim was last renewed more than ${this.ownerKeyMs} ms ago (Redis unreachable or the process stalled), or it is still taking the drone over; try again shortly`));
    }
    if (!this.link.up) {
      // Without Redis this node cannot know who flies the drone, nor claim it: say what is known, not a guess.
      const who = owner === undefined ? `this node has not reached Redis yet, so it does not know which node flies ${op.drone}` : `${op.drone} is flown by node ${owner} and this node has lost Redis`;
      return answer(unavailable(`${who}: try again once Redis is back (this node's /healthz says degraded until then)`));
    }
    if (owner === undefined) return answer(unavailable(`no node simulates ${op.drone} right now (a takeover is in progress): try again in a few seconds`));
    const corr = this.nextCorr++;
    const timer = setTimeout(() => {
      const pending = this.pending.get(corr);
      if (pending) this.settle(corr, pending, unavailable(`node ${owner}, which simulates ${op.drone}, did not answer within ${forwardTimeoutMilliseconds / 1000} s`));
    }, forwardTimeoutMilliseconds);
    this.pending.set(corr, { answer: (result) => answer(result, owner), timer });
    this.counters.forwardedOps++;
    // Present before the op arrives (same connection, in order): its owner may check at once.
    if (!this.vouched.has(op.session)) {
      this.vouched.add(op.session);
      void this.link.send("SET", [presenceKey(op.session), this.nodeId, "PX", String(this.ownerKeyMs)]).catch(() => {});
    }
    this.sendToNode(owner, { kind: "op", corr, from: this.nodeId, op, expiresAtMs: Math.round(this.wallMs()) + forwardTimeoutMilliseconds - clockSkewMilliseconds });
  }

  sendDone(node: string, session: string, text: string): void {
    this.sendToNode(node, { kind: "done", session, text });
  }

  /** A session that flew drones elsewhere closed: said on the bus at once, and no longer vouched for (so absent within a key lifetime even if the message is lost). */
  sessionClosed(session: string, reason?: string): void {
    this.vouched.delete(session);
    this.link.publish(busChannel, encodeSessionClosed(this.nodeId, session, reason));
    if (this.link.up) void this.link.send("DEL", [presenceKey(session)]).catch(() => {});
  }

  // ------------------------------------------------------------ incoming

  private onBus(text: string): void {
    const events = this.events;
    if (!events || busSender(text) === this.nodeId) return; // our own broadcast
    const message = decodeBusMessage(text);
    switch (message?.kind) {
      case "tick":
        this.counters.ticksReceived++;
        return events.ingestTick(message.timeMs, message.entries);
      case "notice":
        return events.ingestNotice(message.drone, message.text);
      case "session_closed":
        return events.remoteSessionClosed(message.session, message.reason);
    }
  }

  private onNodeMessage(text: string): void {
    const events = this.events;
    const message = decodeNodeMessage(text);
    if (!events || !message) return;
    switch (message.kind) {
      case "op": {
        const reply = (result: OpResult) => this.sendToNode(message.from, { kind: "reply", corr: message.corr, result });
        // Its sender has given up on it (this node stalled): never executed late, so never answered twice.
        if (message.expiresAtMs !== undefined && this.wallMs() > message.expiresAtMs) return reply(unavailable(`the op on ${message.op.drone} reached node ${this.nodeId} after its sender stopped waiting: not executed`));
        return events.performForNode(message.op, message.from, reply);
      }
      case "reply": {
        const pending = this.pending.get(message.corr);
        if (pending) this.settle(message.corr, pending, message.result);
        return;
      }
      case "done":
        return events.deliverDone(message.session, message.text);
    }
  }

  private settle(corr: number, pending: PendingForward, result: OpResult): void {
    this.pending.delete(corr);
    clearTimeout(pending.timer);
    if (!result.ok) this.counters.forwardFailures++;
    pending.answer(result);
  }

  private sendToNode(node: string, message: NodeMessage): void {
    this.link.publish(nodeChannel(node), encodeNodeMessage(message));
  }

  // ------------------------------------------------------------ writes

  /** Runs a write that resume or failover depends on: a failure is counted and logged once per streak, never thrown. */
  private async write(operation: TrackedWrite, command: string, args: string[]): Promise<unknown> {
    let line;
    let reply: unknown = null;
    try {
      reply = await this.link.send(command, args);
      line = this.writeFailures.succeeded(operation);
    } catch (error) {
      line = this.writeFailures.failed(operation, error instanceof Error ? error.message : String(error));
    }
    if (line?.event === "redis_write_failed") this.options.logger.warn(line);
    else if (line) this.options.logger.info(line);
    return reply;
  }

  // ------------------------------------------------------------ ownership

  private linkUp(): void {
    this.linkUpSinceMs = this.nowMs();
    // Whoever joined while this node was away is checked before this node takes anything.
    this.peersCheckedMs = Number.NEGATIVE_INFINITY;
    void this.catchUp().then(() => this.round());
  }

  private linkDown(reason: string): void {
    // Forwarded ops cannot be answered now; the drones this node simulates keep flying here.
    for (const [corr, pending] of this.pending) this.settle(corr, pending, unavailable(`lost Redis (${reason}): try again shortly`));
  }

  /** After (re)connecting: fills each replay buffer from Redis, so `since` works for frames published while away. */
  private async catchUp(): Promise<void> {
    const elsewhere = this.options.droneIds.filter((drone) => !this.owned.has(drone));
    await Promise.all(elsewhere.map(async (drone) => {
      await this.refill(drone);
      this.events!.missionKnown(drone, await this.mission(drone));
    }));
    this.counters.catchUps++;
  }

  /** One ownership round: renew, take free drones over, notice drones lost to other nodes and pilots on dead nodes. */
  private async round(): Promise<void> {
    if (this.roundRunning || this.stopped || !this.link.up) return;
    this.roundRunning = true;
    try {
      const drones = this.options.droneIds;
      const events = this.events!;
      const keys = [...drones.map(ownerKey), ...drones.map(epochKey), aliveKey(this.nodeId)];
      const before = drones.map((drone) => ({ previousOwner: this.owners.get(drone), simulatedHere: this.owned.has(drone), knownEpoch: this.epochs.get(drone) }));
      if (this.nowMs() - this.peersCheckedMs >= peerCheckMilliseconds) await this.checkPeers();
      const nowMs = this.nowMs();
      // Beside a node it cannot work with, this node holds back: it keeps what it flies and takes nothing more.
      const holdBack = this.incompatiblePeers.size > 0;
      const takeable = before.map((drone) => (!holdBack && mayTake(drone, this.nodeId, nowMs, this.linkUpSinceMs, this.ownerKeyMs) ? "1" : "0"));
      const known = before.map((drone) => String(drone.knownEpoch ?? 0));
      const ownerMs = String(this.ownerKeyMs);
      const owners = (await this.link.send("EVAL", [ownershipScript, String(keys.length), ...keys, this.nodeId, ownerMs, ownerMs, ...takeable, ...known, encodeAnnouncement(ownAnnouncement)])) as unknown[];
      // Whether this node's previous claim had expired when this round was sent: its keys may have lapsed, and other nodes flown its drones.
      const claimLapsed = !claimValid(nowMs, this.claimSentMs, this.claimMs);
      // Every key this node holds was renewed (or taken) at the latest when the round was sent.
      this.claimSentMs = nowMs;
      const takeovers: Array<Promise<void>> = [];
      for (let i = 0; i < drones.length; i++) {
        const drone = drones[i]!;
        const epoch = decodeOwnerEpoch(owners[drones.length + i]);
        const report = { ...decodeOwnerReport(owners[i]), epoch };
        this.epochs.set(drone, epoch);
        // Nobody owns it and this node may not take it yet: ops still go to the node that had it.
        if (report.owner !== null) this.owners.set(drone, report.owner);
        const change = ownershipChange(before[i]!, report, this.nodeId);
        if (change.kind === "adopt") takeovers.push(this.takeOver(drone, change.takenFrom));
        else if (change.kind === "keep" && report.taken) takeovers.push(this.retaken(drone, claimLapsed));
        else if (change.kind === "lose") {
          this.owned.delete(drone);
          this.pilotRecords.delete(drone);
          events.relinquish(drone, change.owner === null ? "no node holds it now" : `simulation moved to node ${change.owner}`);
        }
      }
      // Taken drones are read back from Redis together (one round trip, pipelined), not one after another:
      // a node taking over a whole fleet must finish before its next round is due to renew the keys.
      await Promise.all([...takeovers, this.refreshPresence()]);
      events.ownersRead();
      await this.dropAbsentPilots();
    } catch (error) {
      this.options.logger.warn({ event: "ownership_round_failed", reason: error instanceof Error ? error.message : String(error) });
    } finally {
      this.roundRunning = false;
    }
  }

  /**
   * This node took back the key of a drone it simulates (Redis restarted
   * empty, or the key expired while this node was fenced): it goes on from
   * its own state and records the pilot again, unless a newer state was
   * stored or heard meanwhile (the node carries on from that instead).
   */
  private async retaken(drone: string, claimLapsed: boolean): Promise<void> {
    const newest = (await this.history(drone).catch(() => [])).at(-1);
    const data = decodeFrameData(newest?.dataJson ?? "");
    const stored = data === null ? null : { data, ...(newest?.epoch === undefined ? {} : { epoch: newest.epoch }) };
    if (!this.events!.retake(drone, stored, claimLapsed)) {
      this.options.logger.warn({ event: "owner_key_retaken", drone, reason: "another node flew the drone while this node's claim had lapsed: carrying on from the newest state, not this node's own" });
      return;
    }
    this.options.logger.info({ event: "owner_key_retaken", drone, reason: "Redis lost the key; this node still simulates the drone and goes on from its own state" });
    const pilot = this.pilotRecords.get(drone);
    if (pilot) this.writePilotRecord(drone, encodePilotRecord(pilot));
  }

  /** This node just became the drone's owner: carry on from the last frame any node stored. */
  private async takeOver(drone: string, takenFrom: string | null): Promise<void> {
    const history = await this.refill(drone);
    const lastEntry = history.at(-1);
    const last = lastEntry ? decodeFrameData(lastEntry.dataJson) : null;
    const [pilot, mission] = await Promise.all([this.livePilot(drone).catch(() => null), this.mission(drone)]);
    this.owned.add(drone);
    if (pilot) this.pilotRecords.set(drone, pilot);
    this.events!.adopt(drone, last, pilot, takenFrom, mission);
  }

  /** The mission a drone's owner last recorded, or null (none, unreadable, or Redis did not answer). */
  private async mission(drone: string): Promise<MissionRecord | null> {
    return decodeMissionRecord(await this.link.send("GET", [missionKey(drone)]).catch(() => null));
  }

  /** The recorded pilot of a drone, if its session is still present on its node. */
  private async livePilot(drone: string): Promise<PilotOnNode | null> {
    const recorded = decodePilotRecord(await this.link.send("GET", [pilotKey(drone)]));
    if (!recorded) return null;
    const present = recorded.node === this.nodeId || (await this.link.send("GET", [presenceKey(recorded.session)])) === recorded.node;
    return present ? recorded : null;
  }

  /**
   * Reads every live node's cluster protocol announcement (its alive key)
   * and notes those this node cannot work with; logs each one found or gone.
   */
  private async checkPeers(): Promise<void> {
    this.peersCheckedMs = this.nowMs();
    const keys = await this.aliveKeys();
    const values = keys.length === 0 ? [] : ((await this.link.send("MGET", keys)) as unknown[]);
    const found = new Map<string, string>();
    keys.forEach((key, i) => {
      const node = key.slice(aliveKey("").length);
      // A key that expired between the two reads is a node that left, not an unreadable one.
      if (node === this.nodeId || values[i] === null || values[i] === undefined) return;
      const reason = incompatibility(ownAnnouncement, node, decodeAnnouncement(values[i]));
      if (reason !== null) found.set(node, reason);
    });
    for (const [node, reason] of found) {
      if (!this.incompatiblePeers.has(node)) this.options.logger.error({ event: "cluster_peer_incompatible", node, reason, consequence: `node ${this.nodeId} takes no drone while node ${node} runs` });
    }
    for (const node of this.incompatiblePeers.keys()) {
      if (!found.has(node)) this.options.logger.info({ event: "cluster_peer_incompatible_gone", node, reason: "it no longer runs: this node takes drones again" });
    }
    this.incompatiblePeers.clear();
    for (const [node, reason] of found) this.incompatiblePeers.set(node, reason);
  }

  /** The alive key of every node, this one included (SCAN: never blocks Redis). */
  private async aliveKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    for (let call = 0; call < maxScanCalls; call++) {
      const [next, batch] = (await this.link.send("SCAN", [cursor, "MATCH", aliveKey("*"), "COUNT", "1000"])) as [string, string[]];
      keys.push(...batch);
      cursor = String(next);
      if (cursor === "0") break;
    }
    return [...new Set(keys)];
  }

  /** Renews the presence of every session this node vouches for. */
  private async refreshPresence(): Promise<void> {
    if (this.vouched.size === 0) return;
    const keys = [...this.vouched].map(presenceKey);
    await this.link.send("EVAL", [presenceScript, String(keys.length), ...keys, this.nodeId, String(this.ownerKeyMs)]);
  }

  /**
   * Pilots of our drones connected to other nodes lose their leases once no
   * node vouches for their session (it closed, whether or not its node's
   * message reached us, or its node died); not while a missing key may only
   * mean that Redis restarted empty and their node has not renewed it yet.
   */
  private async dropAbsentPilots(): Promise<void> {
    if (!missingKeysMeanDead(this.nowMs(), this.linkUpSinceMs, this.ownerKeyMs)) return;
    const events = this.events!;
    const pilots = [...events.remotePilots()];
    if (pilots.length === 0) return;
    const present = (await this.link.send("MGET", pilots.map(([session]) => presenceKey(session)))) as Array<string | null>;
    pilots.forEach(([session, node], i) => {
      if (present[i] === node) return;
      this.options.logger.warn({ event: "pilot_absent", session, node, reason: `node ${node} no longer vouches for the session (it closed, or its node stopped renewing)` });
      events.remoteSessionClosed(session);
    });
  }

  /** Fills this node's replay buffer of a drone from its frames in Redis, and returns them (none if Redis fails). */
  private async refill(drone: string): Promise<TickEntry[]> {
    const history = await this.history(drone).catch(() => []);
    this.events!.backfill(drone, history);
    return history;
  }

  /** A drone's frames as stored in Redis, oldest first. */
  private async history(drone: string): Promise<TickEntry[]> {
    const stored = (await this.link.send("LRANGE", [framesKey(drone), "0", "-1"])) as string[];
    const entries: TickEntry[] = [];
    for (const line of stored) {
      const entry = decodeStoredFrame(drone, line);
      if (entry) entries.push(entry);
    }
    return entries;
  }
}

function unavailable(message: string): OpResult {
  return { ok: false, error: { code: "drone_unavailable", message } };
}
