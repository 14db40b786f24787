/**
 * One inbound text frame on `/drone`, sorted into its form: text starting
 * with `{` is a JSON envelope (envelope.ts), anything else a line of the
 * text grammar (text.ts). Pure.
 */
import { parseEnvelope, type ClientMessage } from "./envelope.ts";
import type { ProtocolError } from "./errors.ts";
import type { RequestId } from "./messages.ts";
import { parseTextLine, type TextLine } from "./text.ts";

/** A parsed inbound text frame: a JSON envelope or a line of the text grammar. */
export type ParsedInput =
  | { ok: true; form: "json"; message: ClientMessage }
  | { ok: true; form: "text"; line: TextLine }
  | { ok: false; form: "json" | "text"; error: ProtocolError; id?: RequestId };

/** Parses one inbound text frame, in whichever form it came. */
export function parseClientFrame(text: string): ParsedInput {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return { form: "json", ...parseEnvelope(trimmed) };
  const line = parseTextLine(trimmed);
  return line.ok ? { ok: true, form: "text", line: line.line } : { ok: false, form: "text", error: line.error };
}
