/**
 * Where a client's op runs: on the fleet here when this node flies the
 * vehicle, else on the node that does, through the broker. Answers come back
 * exactly once: at once, over the broker, or (for a vehicle that answers
 * later) when the fleet's `answer` notice with the op's ticket arrives.
 *
 * Also remembers which pilots of vehicles flown here are connected to other
 * nodes (a lease must name the pilot's node cluster-wide, and a dead node's
 * pilots lose their leases), which sessions here sent ops elsewhere
 * (those nodes hear when they close), and which commands sent elsewhere
 * were accepted and still await their `done`: each ends in exactly one,
 * the owner's, or a failed one made here when the node that accepted it no
 * longer flies the drone. Owns no socket and no timer.
 */
import type { Fleet } from "../core/fleet/fleet.ts";
import { commandResult, executeOp, type CommandOrigin, type DroneOp, type OpOutcome, type OpResult } from "../core/fleet/ops.ts";
import type { CommandAnswer } from "../core/fleet/fleet.ts";
import type { Broker } from "./cluster/broker.ts";
import { encodeMessage, type RequestId } from "../../protocol/index.ts";

type Answer = (result: OpResult) => void;

/** A command a session here sent to a drone flown elsewhere, accepted by `node`, awaiting its `done`. */
interface RemoteCommand {
  drone: string;
  session: string;
  label: string;
  requestId: RequestId | undefined;
  node: string;
}

/** A `done` (already JSON) for a session connected here. */
export interface DoneForSession {
  session: string;
  text: string;
}

export class OpRouter {
  /** Ops whose vehicle answers later, by the ticket of the fleet notice that will carry the answer. */
  private readonly awaitingAnswer = new Map<number, { op: { drone: string; label: string }; answer: Answer }>();
  /** Sessions here that sent ops to vehicles flown elsewhere: those nodes hear when they close. */
  private readonly sessionsWithRemoteOps = new Set<string>();
  /** For vehicles flown here: the node of each pilot session connected elsewhere. */
  private readonly remotePilotNodes = new Map<string, string>();
  /** Commands sent elsewhere and accepted, awaiting their `done`, by `doneKey`, oldest first. */
  private readonly awaitingDone = new Map<string, RemoteCommand[]>();

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
    broker.forward(op, (result, node) => {
      // JSON commands and mission ops get a `done`; one accepted elsewhere is tracked until it has had it.
      if (((op.kind === "command" && op.form === "json") || op.kind === "mission") && result.ok && node !== undefined) {
        const command: RemoteCommand = { drone: op.drone, session: op.session, label: op.label, requestId: op.requestId, node };
        const key = doneKey(op.session, op.drone, op.requestId);
        this.awaitingDone.set(key, [...(this.awaitingDone.get(key) ?? []), command]);
      }
      answer(result);
      then();
    });
  }

  /**
   * A `done` from another node for a session here: whether to deliver it.
   * Only one for a command still awaiting it: a command already failed here
   * (its node stopped flying the drone) never gets a second one.
   */
  remoteDone(session: string, text: string): boolean {
    const done = parseDone(text);
    if (done === null) return false;
    const key = doneKey(session, done.drone, done.id);
    const waiting = this.awaitingDone.get(key);
    if (!waiting) return false;
    waiting.shift();
    if (waiting.length === 0) this.awaitingDone.delete(key);
    return true;
  }

  /** The failed `done` of every command awaiting one whose node no longer flies its drone (`ownerOf`, as of the last round). */
  failOrphanedCommands(ownerOf: (drone: string) => string | undefined): DoneForSession[] {
    const failed: DoneForSession[] = [];
    for (const [key, waiting] of this.awaitingDone) {
      const alive = waiting.filter((command) => ownerOf(command.drone) === command.node);
      for (const command of waiting) {
        if (ownerOf(command.drone) === command.node) continue;
        const reason = `node ${command.node}, which flew ${command.drone}, stopped flying it (it died, stalled or lost Redis) before ${command.label} finished`;
        const data = { drone: command.drone, command: command.label, status: "failed" as const, reason };
        failed.push({ session: command.session, text: encodeMessage("done", data, command.requestId) });
      }
      if (alive.length === 0) this.awaitingDone.delete(key);
      else this.awaitingDone.set(key, alive);
    }
    return failed;
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
    for (const [key, waiting] of this.awaitingDone) if (waiting[0]!.session === session) this.awaitingDone.delete(key);
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

/** The key of a command awaiting its `done`: the session, the drone and the request id (`done` carries all three). */
function doneKey(session: string, drone: string, requestId: RequestId | undefined): string {
  return `${session}\t${drone}\t${requestId === undefined ? "" : JSON.stringify(requestId)}`;
}

/** The drone and request id of a `done` message (JSON), or null when it is not one. */
function parseDone(text: string): { drone: string; id: RequestId | undefined } | null {
  try {
    const message = JSON.parse(text) as { type?: unknown; id?: RequestId; data?: { drone?: unknown } };
    return message.type === "done" && typeof message.data?.drone === "string" ? { drone: message.data.drone, id: message.id } : null;
  } catch {
    return null;
  }
}
