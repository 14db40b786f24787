/**
 * Where a client's op runs: on the fleet here when this node flies the
 * vehicle, else on the node that does, through the broker. Answers come back
 * exactly once: at once, over the broker, or (for a vehicle that answers
 * later) when the fleet's `answer` notice with the op's ticket arrives.
 *
 * Also remembers which pilots of vehicles flown here are connected to other
 * nodes (a lease must name the pilot's node cluster-wide, and a dead node's
 * pilots lose their leases), and which sessions here sent ops elsewhere
 * (those nodes hear when they close). Owns no socket and no timer.
 */
import type { Fleet } from "../core/fleet/fleet.ts";
import { commandResult, executeOp, type CommandOrigin, type DroneOp, type OpOutcome, type OpResult } from "../core/fleet/ops.ts";
import type { CommandAnswer } from "../core/fleet/fleet.ts";
import type { Broker } from "./cluster/broker.ts";

type Answer = (result: OpResult) => void;

export class OpRouter {
  /** Ops whose vehicle answers later, by the ticket of the fleet notice that will carry the answer. */
  private readonly awaitingAnswer = new Map<number, { op: { drone: string; label: string }; answer: Answer }>();
  /** Sessions here that sent ops to vehicles flown elsewhere: those nodes hear when they close. */
  private readonly sessionsWithRemoteOps = new Set<string>();
  /** For vehicles flown here: the node of each pilot session connected elsewhere. */
  private readonly remotePilotNodes = new Map<string, string>();

  constructor(
    private readonly fleet: Fleet<CommandOrigin>,
    private readonly broker: () => Broker,
    private readonly nowSeconds: () => number,
  ) {}

  /**
   * Runs a client's op: on the fleet when this node flies the vehicle
   * (`answer` is called before this returns, unless the vehicle answers
   * later), else on the node that does. `then` runs once the answer is in.
   */
  perform(op: DroneOp, answer: Answer, then: () => void): void {
    const broker = this.broker();
    if (broker.owns(op.drone)) {
      this.settle(op, executeOp(this.fleet, op, { now: this.nowSeconds() }), answer);
      return;
    }
    this.sessionsWithRemoteOps.add(op.session);
    broker.forward(op, (result) => {
      answer(result);
      then();
    });
  }

  /** Runs an op another node forwarded for a vehicle flown here; `reply` goes out once it is answered. */
  performForNode(op: DroneOp, node: string, reply: Answer): void {
    if (!this.broker().owns(op.drone)) {
      reply({ ok: false, error: { code: "drone_unavailable", message: `${op.drone} moved to another node: try again` } });
      return;
    }
    const result = executeOp(this.fleet, op, { now: this.nowSeconds(), node });
    // Only a claim makes a pilot; its lease notice records the pilot's node in Redis.
    if (op.kind === "claim" && result.ok === true) this.remotePilotNodes.set(op.session, node);
    this.settle(op, result, reply);
  }

  /** A pending op's vehicle answered: its sender hears now. */
  answered(ticket: number, answer: CommandAnswer): void {
    const waiting = this.awaitingAnswer.get(ticket);
    if (!waiting) return;
    this.awaitingAnswer.delete(ticket);
    waiting.answer(commandResult(waiting.op, answer));
  }

  /** The node a pilot session is connected to, when it is another node's. */
  pilotNode(session: string): string | undefined {
    return this.remotePilotNodes.get(session);
  }

  /** A pilot taken over with a vehicle lives on another node. */
  rememberPilotNode(session: string, node: string): void {
    this.remotePilotNodes.set(session, node);
  }

  /** A session here closed: whether other nodes must be told (it sent them ops). */
  closedHere(session: string): boolean {
    return this.sessionsWithRemoteOps.delete(session);
  }

  /** A session on another node closed. */
  closedElsewhere(session: string): void {
    this.remotePilotNodes.delete(session);
  }

  /** Pilots of vehicles flown here whose sessions live on other nodes: session to node. */
  remotePilots(): Map<string, string> {
    const broker = this.broker();
    const pilots = new Map<string, string>();
    for (const drone of this.fleet.ids) {
      if (!broker.owns(drone)) continue;
      const pilot = this.fleet.pilotOf(drone);
      const node = pilot === null ? undefined : this.remotePilotNodes.get(pilot);
      if (pilot !== null && node !== undefined) pilots.set(pilot, node);
    }
    return pilots;
  }

  private settle(op: DroneOp, outcome: OpOutcome, answer: Answer): void {
    if (outcome.ok !== "pending") return answer(outcome);
    this.awaitingAnswer.set(outcome.ticket, { op: { drone: op.drone, label: op.kind === "command" ? op.label : op.kind }, answer });
  }
}
