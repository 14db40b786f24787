/**
 * Pilot leases as this client knows them, and the rule for taking them back
 * after a reconnection: a lease nobody holds (or one the server reserves for
 * us for a short grace after our socket dropped) is reclaimed at once, with
 * the resume token the claim's ack gave; one still
 * held by one of our own earlier sessions (a half-open socket the server has
 * not noticed yet) is reclaimed the moment the server frees it; one held by
 * anybody else is lost, and said so.
 *
 * Pure bookkeeping: welcomes, lease messages and acks in, decisions out.
 * Sends nothing and emits nothing; the client carries out each decision.
 */
import type { LeaseData, WelcomeData } from "../../protocol/index.ts";

/** What the rules read of a welcome: the new session, and each drone's pilot. */
type WelcomePilots = Pick<WelcomeData, "session" | "drones">;

/** What the client must do about one drone's lease. */
export type LeaseDecision =
  /** Claim the drone again, with the token the first claim used and the resume token its ack gave (which takes back a reserved lease). */
  | { kind: "reclaim"; drone: string; token: string | undefined; resume?: string }
  /** Another session flies the drone now: tell the application; the client no longer wants it back. */
  | { kind: "lost"; drone: string; pilot: string };

export class Leases {
  /** Pilot of each drone as last heard: welcome, lease messages, claim and release acks. */
  private readonly pilots = new Map<string, string | null>();
  /** Drones this client flies, to reclaim after a reconnection, with the claim token used. */
  private readonly piloting = new Map<string, string | undefined>();
  /** Per drone flown, the resume token from its claim's ack: the server reserves a dropped pilot's lease for it. */
  private readonly resumeTokens = new Map<string, string>();
  /** Drones to reclaim once the server notices our previous socket is gone and frees the lease. */
  private readonly awaitingLapse = new Set<string>();
  /** Our earlier session ids: a lease still held by one of them is ours to take back. */
  private readonly pastSessions = new Set<string>();

  /** Session id of the drone's pilot as last heard, or null when nobody flies it (or it is unknown). */
  pilotOf(drone: string): string | null {
    return this.pilots.get(drone) ?? null;
  }

  /** A fresh start (`connect()` after `close()`): no lease is wanted back. */
  clear(): void {
    this.piloting.clear();
    this.resumeTokens.clear();
    this.awaitingLapse.clear();
  }

  /** A socket was welcomed: its drones' pilots, and the session it replaces (null on the first). */
  welcomed(welcome: WelcomePilots, previousSession: string | null): void {
    if (previousSession !== null && previousSession !== welcome.session) this.pastSessions.add(previousSession);
    for (const drone of welcome.drones) this.pilots.set(drone.id, drone.pilot);
  }

  /** After a reconnection's welcome: what to do about each drone this client flew before the drop. */
  afterReconnect(): LeaseDecision[] {
    const decisions: LeaseDecision[] = [];
    for (const [drone, token] of [...this.piloting]) {
      const pilot = this.pilots.get(drone) ?? null;
      if (pilot === null) decisions.push(this.reclaim(drone, token));
      else if (this.pastSessions.has(pilot)) this.awaitingLapse.add(drone); // the server has not yet noticed our old socket is gone
      else decisions.push(this.lost(drone, pilot));
    }
    return decisions;
  }

  /**
   * A `lease` message: records the new pilot, and says whether that calls for
   * a reclaim or means a lost lease. Our own lease dropped while this socket
   * is open (the server found us silent: a frozen tab, a stalled process) is
   * reclaimed at once with the resume token, as after a reconnection; a lease
   * released on purpose (by us, or an admin) is not.
   */
  changed(lease: LeaseData, session: string | null): LeaseDecision | null {
    const { drone, pilot } = lease;
    const wasOurs = session !== null && this.pilots.get(drone) === session;
    this.pilots.set(drone, pilot);
    if (pilot === null && this.awaitingLapse.delete(drone)) return this.reclaim(drone, this.piloting.get(drone));
    if (pilot === null && wasOurs && this.piloting.has(drone) && droppedAsLost(lease)) return this.reclaim(drone, this.piloting.get(drone));
    if (pilot !== null && pilot !== session && !this.pastSessions.has(pilot) && this.piloting.has(drone)) return this.lost(drone, pilot);
    return null;
  }

  /** A claim was acked: `session` flies the drone, and wants it back after a drop (with `resume`, the ack's resume token). */
  claimed(drone: string, session: string | null, token: string | undefined, resume?: string): void {
    this.pilots.set(drone, session);
    this.piloting.set(drone, token);
    if (resume === undefined) this.resumeTokens.delete(drone);
    else this.resumeTokens.set(drone, resume);
    this.awaitingLapse.delete(drone);
  }

  /** The application gives the drone up: whatever the server answers, do not take it back after a drop. */
  releasing(drone: string): void {
    this.piloting.delete(drone);
    this.resumeTokens.delete(drone);
    this.awaitingLapse.delete(drone);
  }

  /** A release was acked: nobody flies the drone. */
  released(drone: string): void {
    this.pilots.set(drone, null);
  }

  /** A reclaim was refused because another session took the drone first: stop wanting it. */
  reclaimRefused(drone: string): void {
    this.piloting.delete(drone);
    this.resumeTokens.delete(drone);
  }

  private reclaim(drone: string, token: string | undefined): LeaseDecision {
    const resume = this.resumeTokens.get(drone);
    return resume === undefined ? { kind: "reclaim", drone, token } : { kind: "reclaim", drone, token, resume };
  }

  private lost(drone: string, pilot: string): LeaseDecision {
    this.piloting.delete(drone);
    this.resumeTokens.delete(drone);
    this.awaitingLapse.delete(drone);
    return { kind: "lost", drone, pilot };
  }
}

/** Whether the server dropped a pilot as lost (silent, or its link gone), and not released on purpose: a reservation says so, or the silence reason. */
function droppedAsLost(lease: LeaseData): boolean {
  return lease.reservedSeconds !== undefined || lease.reason.startsWith("pilot silent");
}
