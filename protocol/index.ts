/**
 * The `/drone` wire protocol, shared by the server, the client SDK, the CLI,
 * the dashboard and the docs' tests: this barrel re-exports each part.
 *
 * - `commands.ts`: the command table, and everything derived from it
 * - `text.ts`: the text grammar, the error line and the status line
 * - `envelope.ts`: JSON envelopes in, validated; the nesting guard
 * - `frame.ts`: one inbound frame sorted into text or JSON
 * - `messages.ts`: wire types both ways, encoders, telemetry templates
 * - `missions.ts`: a mission's items checked as a whole
 * - `qgc-plan.ts`: QGroundControl `.plan` files to missions and back
 * - `shapes.ts`: each type's data keys at run time, checked against the types
 * - `errors.ts`: error and close codes, shared refusals, domain refusals to wire errors
 * - `flights.ts`: the flight recorder's HTTP API shapes
 * - `replays.ts`: replay vehicles of recorded flights: ids, speeds, state, request checks
 * - `received.ts` (internal, not re-exported): how parsers word what they refuse
 *
 * Pure throughout: strings in, values out. No sockets, no clock, no drone
 * state: whether a command makes sense for a drone right now is the model's question.
 */
export * from "./commands.ts";
export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./flights.ts";
export * from "./frame.ts";
export * from "./messages.ts";
export * from "./missions.ts";
export * from "./qgc-plan.ts";
export * from "./replays.ts";
export * from "./shapes.ts";
export * from "./text.ts";
