/**
 * Answers one request in the form it came in. A JSON client gets acks,
 * replies carrying its request id, events and replayed frames; a text client
 * gets exactly one line per request. The two are different types, so code
 * that has only a text client cannot send it JSON by mistake, and nothing is
 * dropped silently.
 *
 * Owns the encoding of replies; never decides what to answer.
 */
import { errorLine, errorMessage, encodeMessage, type AckData, type DoneData, type EventData, type PongData, type ProtocolError, type RequestId } from "../../../protocol/index.ts";
import { sendTo, type Socket } from "../connections.ts";

/** What every client gets: a refusal, in its own form. */
interface Answers {
  error(error: ProtocolError): void;
}

/** A text-grammar client: one line per request. */
export interface TextReplier extends Answers {
  readonly form: "text";
  line(text: string): void;
}

/** A JSON client: everything is a typed server message. */
export interface JsonReplier extends Answers {
  readonly form: "json";
  /** An `ack` with the request's id. */
  ack(data: AckData): void;
  /** A `done` with the request's id (a command that completes at once). */
  done(data: DoneData): void;
  /** A `pong` with the request's id. */
  pong(data: PongData): void;
  /** An `event` for this socket alone (a resume's `stream_reset`, `frames_lost`). */
  event(data: EventData): void;
  /** A message already encoded, as is (a replayed telemetry frame). */
  encoded(text: string): void;
}

export type Replier = TextReplier | JsonReplier;

/**
 * Replies to one JSON request. A class, not an object of closures: one is
 * made per message, and a socket's first message comes with thousands of
 * others when a fleet's viewers connect at once (seven closures were
 * garbage the heap grew to hold).
 */
class JsonRequestReplier implements JsonReplier {
  readonly form = "json";

  constructor(
    private readonly ws: Socket,
    private readonly id: RequestId | undefined,
  ) {}

  ack(data: AckData): void {
    sendTo(this.ws, encodeMessage("ack", data, this.id));
  }

  error(error: ProtocolError): void {
    sendTo(this.ws, errorMessage(error, this.id));
  }

  done(data: DoneData): void {
    sendTo(this.ws, encodeMessage("done", data, this.id));
  }

  pong(data: PongData): void {
    sendTo(this.ws, encodeMessage("pong", data, this.id));
  }

  event(data: EventData): void {
    sendTo(this.ws, encodeMessage("event", data));
  }

  encoded(text: string): void {
    sendTo(this.ws, text);
  }
}

/** Replies to one line of the text grammar. */
class TextLineReplier implements TextReplier {
  readonly form = "text";

  constructor(private readonly ws: Socket) {}

  line(text: string): void {
    sendTo(this.ws, text);
  }

  error(error: ProtocolError): void {
    sendTo(this.ws, errorLine(error));
  }
}

/** The replier for a JSON request, with its id when it had a valid one. */
export function jsonReplier(ws: Socket, id: RequestId | undefined): JsonReplier {
  return new JsonRequestReplier(ws, id);
}

/** The replier for a line of the text grammar. */
export function textReplier(ws: Socket): TextReplier {
  return new TextLineReplier(ws);
}
