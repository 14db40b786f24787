/**
 * What a parser says about input it refuses: the failed half of a parse
 * result, and how a received value is shown in the message (described, never
 * serialised, so a hostile structure costs nothing to mention).
 *
 * A leaf: the command table, the text grammar and the envelope validator
 * all use it. Pure.
 */
import type { ErrorCode, ProtocolError } from "./errors.ts";

/** The failed half of a parse result, with the field when there is one. */
export function failure(code: ErrorCode, message: string, field?: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: field === undefined ? { code, message } : { code, message, field } };
}

/** A value's JSON kind with its article, for messages: "a string", "an array", "null". */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" || type === "undefined" ? `an ${type}` : `a ${type}`;
}

/**
 * Shows a received value in an error message. Only primitives are quoted:
 * arrays and objects are described, never serialised, because serialising
 * an untrusted structure costs time the sender controls.
 */
export function preview(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? "" : "s"}`;
  if (typeof value === "object" && value !== null) return "an object";
  const text = typeof value === "string" ? JSON.stringify(value.length > 60 ? value.slice(0, 60) : value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
