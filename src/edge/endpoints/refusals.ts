/**
 * A domain refusal (from the fleet, a vehicle or the cluster) as the wire
 * error a `/drone` JSON client gets: the field named as the client wrote it.
 * Owns only that mapping; text clients get `error <code>: <message>`, which needs no field.
 */
import type { Refusal } from "../../core/refusal.ts";
import { wireArgField, type DroneRequest, type ProtocolError } from "../../../protocol/index.ts";

/** `{vehicle}` names `data.drone`; `{argument}` names the command's argument, `data.args[i]`. */
export function wireError(refusal: Refusal, command?: DroneRequest["name"]): ProtocolError {
  const { code, message, about } = refusal;
  if (about === undefined) return { code, message };
  if ("vehicle" in about) return { code, message, field: "data.drone" };
  return { code, message, field: command === undefined ? about.argument : wireArgField(command, about.argument, "data.args") };
}
