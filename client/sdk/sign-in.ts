/**
 * How the SDK presents its tokens, and what a refusal of them means in an
 * operator's words.
 *
 * Owns the first message of every socket (a `hello` with the viewer token,
 * or, with no token, a `ping` that makes a server that needs one say so at
 * once instead of staying silent), and the reading of `unauthorized`
 * answers: which token was refused and whether it was missing or wrong.
 * Pure: builds strings and classifies errors; sends nothing.
 */
import type { WireClientMessage } from "../../protocol/index.ts";
import type { SkyportError } from "./errors.ts";

/**
 * The tokens a client presents. `token` is the viewer token, sent in the
 * first message of every socket (`hello`), exactly as the protocol asks.
 * `pilotToken` goes with each claim; when absent, `token` is used for claims
 * too, so one signed identity token (a JWT) fills both.
 */
export interface SkyportTokens {
  /** The viewer token (or one identity token for everything). */
  token?: string;
  /** The pilot token for claims, when it differs from `token`. */
  pilotToken?: string;
}

/** The id of the first message on every socket; its answer is the server's verdict on the viewer token. */
export const signInRequestId = "sign-in";

/**
 * The first message of a socket: `hello` with the viewer token, or a `ping`
 * when there is none. A server that needs no token welcomed the socket on
 * open and answers either with an ack or a pong; one that needs a token
 * answers `unauthorized`, which `accessRefusal` reads.
 */
export function signInMessage(tokens: SkyportTokens): string {
  const message: WireClientMessage =
    tokens.token === undefined ? { type: "ping", id: signInRequestId } : { type: "hello", id: signInRequestId, data: { token: tokens.token } };
  return JSON.stringify(message);
}

/** Which token a claim presents: the pilot token, else the viewer token (one identity token), else none. */
export function claimToken(tokens: SkyportTokens, explicit?: string): string | undefined {
  return explicit ?? tokens.pilotToken ?? tokens.token;
}

/** Why the server would not let the client in or let it fly, as an operator would say it. */
export type RefusalKind =
  /** The server needs a viewer token and the client had none. */
  | "viewer_token_required"
  /** The viewer token was refused. */
  | "viewer_token_wrong"
  /** The server needs a pilot token to claim and the client had none. */
  | "pilot_token_required"
  /** The pilot token was refused. */
  | "pilot_token_wrong"
  /** Any other refusal of a token, e.g. too many failed attempts from this address: the server's words are the message. */
  | "token_refused";

/** A refusal of the client's tokens. */
export interface AccessRefusal {
  kind: RefusalKind;
  /** One sentence for an operator, e.g. "this server needs a viewer token". */
  message: string;
  /** What the server said, word for word. */
  serverMessage: string;
}

const operatorWords: Record<Exclude<RefusalKind, "token_refused">, string> = {
  viewer_token_required: "this server needs a viewer token",
  viewer_token_wrong: "wrong viewer token",
  pilot_token_required: "this server needs a pilot token to fly",
  pilot_token_wrong: "wrong pilot token",
};

/**
 * Reads an `unauthorized` answer. `about` says which token was at stake
 * (the socket's viewer token, or a claim's pilot token) and `presented`
 * whether the client sent one. The server's `reason` decides when it gave
 * one (`missing`, `wrong_token`; any other, such as `expired` or `backoff`,
 * keeps the server's words); without one, a refusal naming `data.token`
 * means a token it compared was wrong. Null for any other error.
 */
export function accessRefusal(error: SkyportError, about: "viewer" | "pilot", presented: boolean): AccessRefusal | null {
  if (error.code !== "unauthorized") return null;
  const kind = refusalKind(error, about, presented);
  return { kind, message: kind === "token_refused" ? error.message : operatorWords[kind], serverMessage: error.message };
}

function refusalKind(error: SkyportError, about: "viewer" | "pilot", presented: boolean): RefusalKind {
  if (error.reason === "missing" || (error.reason === undefined && !presented)) return `${about}_token_required`;
  if (error.reason === "wrong_token" || (error.reason === undefined && error.field === "data.token")) return `${about}_token_wrong`;
  return "token_refused";
}
