/** Server message encoders: typed in, the exact bytes out; the run-time shapes match the types. */
import { describe, expect, test } from "bun:test";
import { encodeMessage, errorMessage, telemetryBatch, telemetryFrame, type AckFor, type WireClientMessage } from "../../protocol/messages.ts";
import { ackShapes, eventShapes, keysOf, serverMessageProblem } from "../../protocol/shapes.ts";
import { hoveringFrame } from "./protocol-fixtures.ts";

const frame = hoveringFrame;

describe("encodeMessage", () => {
  test("type, id, data in that order; the id only when there is one", () => {
    expect(encodeMessage("done", { drone: "alpha", command: "up 5", status: "completed" }, 3)).toBe(
      '{"type":"done","id":3,"data":{"drone":"alpha","command":"up 5","status":"completed"}}',
    );
    expect(encodeMessage("lease", { drone: "alpha", pilot: null, reason: "released" })).toBe('{"type":"lease","data":{"drone":"alpha","pilot":null,"reason":"released"}}');
    expect(encodeMessage("ack", { session: "abcd1234" }, undefined)).toBe('{"type":"ack","data":{"session":"abcd1234"}}');
  });

  test.each([
    ["welcome", { session: "s", role: "observer", protocolVersion: 1, drones: [], subscribed: [], limits: { maxMessageBytes: 1, commandsPerSecond: 1, telemetryHz: 1, replayBufferFrames: 1, failsafeSeconds: 1, maxSubscriptions: 1, maxAltitudeMetres: 1, maxRadiusMetres: 1 } }],
    ["ack", { drone: "alpha", subscribed: true, replayed: 2, lost: 0, latestSeq: { alpha: 4, bravo: null }, epoch: { alpha: "E1", bravo: "E2" } }],
    ["done", { drone: "alpha", command: "land", status: "failed", reason: "superseded by hover" }],
    ["event", { drone: "alpha", kind: "frames_dropped", message: "m", dropped: 3, since: null }],
    ["event", { drone: "alpha", kind: "failover", message: "m", node: "b", previousNode: "a" }],
    ["pong", { time: 5 }],
  ] as const)("%s round-trips through JSON.parse with its shape", (type, data) => {
    const text = encodeMessage(type, data as never);
    expect(JSON.parse(text)).toEqual({ type, data });
    expect(serverMessageProblem(JSON.parse(text))).toBeNull();
  });

  test("the compiler checks the data against the type", () => {
    // @ts-expect-error: a lease has a reason
    encodeMessage("lease", { drone: "alpha", pilot: null });
    // @ts-expect-error: frames_dropped carries dropped and since
    encodeMessage("event", { drone: "alpha", kind: "frames_dropped", message: "m" });
    // @ts-expect-error: a lease answers no request, so it has no id
    encodeMessage("lease", { drone: "alpha", pilot: null, reason: "r" }, 1);
    expect(true).toBe(true);
  });

  test("errorMessage keeps a valid id", () => {
    expect(JSON.parse(errorMessage({ code: "invalid_args", message: "m", field: "data.args" }, "x"))).toEqual({
      type: "error",
      id: "x",
      data: { code: "invalid_args", message: "m", field: "data.args" },
    });
  });
});

describe("telemetry templates: the frame's JSON reused, not re-encoded", () => {
  test("a frame and a batch parse back to their messages", () => {
    const json = JSON.stringify(frame);
    expect(JSON.parse(telemetryFrame(json))).toEqual({ type: "telemetry", data: frame });
    expect(JSON.parse(telemetryBatch(12.6, [json, json]))).toEqual({ type: "telemetry_batch", data: { time: 13, frames: [frame, frame] } });
    expect(telemetryFrame(json)).toBe(encodeMessage("telemetry", frame));
    expect(serverMessageProblem(JSON.parse(telemetryBatch(1, [json])))).toBeNull();
  });
});

describe("types both ways", () => {
  test("a client message and its ack are typed per request", () => {
    const claim: WireClientMessage = { type: "claim", id: 1, data: { drone: "alpha" } };
    const ack: AckFor<"claim"> = { drone: "alpha", role: "pilot", pilot: "abcd1234" };
    // @ts-expect-error: a claim's data has no name
    const wrong: WireClientMessage = { type: "claim", data: { name: "up" } };
    expect([claim.type, ack.role, wrong.type]).toEqual(["claim", "pilot", "claim"]);
  });

  test("keysOf refuses key lists that differ from the type", () => {
    // @ts-expect-error: b is required and missing
    keysOf<{ a: number; b: number }>()(["a"], []);
    // @ts-expect-error: c is not a key
    keysOf<{ a: number }>()(["a", "c"], []);
    expect(keysOf<{ a: number; b?: number }>()(["a"], ["b"])).toEqual({ required: ["a"], optional: ["b"] });
  });

  test("every ack variant and event kind has a run-time shape", () => {
    expect(Object.keys(ackShapes).sort()).toEqual(["claim", "command", "hello", "mission", "release", "replay", "status", "subscribe", "unsubscribe"]);
    expect(Object.keys(eventShapes)).toContain("frames_dropped");
  });
});
