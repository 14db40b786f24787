/**
 * The one place an op's refusal becomes a wire error.
 *
 * The fleet is moving from wire errors (`ProtocolError`, whose `field` may be
 * a model argument name like `distance`) to domain refusals (`Refusal`,
 * about the vehicle or an argument). Both are accepted here until the move is
 * done; then `OpError` becomes `Refusal` and the legacy branch goes.
 */
import { argumentIndex, wireError, type CommandName, type ProtocolError } from "../../../protocol/index.ts";
import type { Refusal } from "../../core/refusal.ts";

/** What an op can fail with, during the fleet's move to `Refusal`. */
export type OpError = ProtocolError | Refusal;

/**
 * The wire error for an op's refusal, naming the field as the client wrote
 * it: `form` is how the request came, `command` the command it carried.
 */
export function wireOpError(error: OpError, form: "json" | "text", command?: CommandName): ProtocolError {
  if ("about" in error) return wireError(error, form, command);
  // A refusal about nothing in particular is `{code, message}`: already its own wire error.
  return legacyWireError(error as ProtocolError, form, command);
}

/** Today's fleet: a model argument name in `field` is moved to where the argument sat on the wire. */
function legacyWireError(error: ProtocolError, form: "json" | "text", command: CommandName | undefined): ProtocolError {
  const { field } = error;
  if (field === undefined || command === undefined) return error;
  const index = argumentIndex(command, field);
  if (index === -1) return error;
  return { ...error, field: form === "json" ? `data.args[${index}]` : `args[${index}]` };
}
