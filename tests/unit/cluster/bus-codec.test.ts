/** The cluster's Redis formats: every encode/decode pair round-trips, and hostile input decodes to null, never throws. */
import { describe, expect, test } from "bun:test";
import {
  busSender,
  decodeBusMessage,
  decodeFrameData,
  decodeMissionRecord,
  decodeNodeMessage,
  decodeOwnerEpoch,
  decodeOwnerReport,
  decodePilotRecord,
  decodeStoredFrame,
  encodeMissionRecord,
  encodeNodeMessage,
  encodeNotice,
  encodePilotRecord,
  encodeSessionClosed,
  encodeStoredFrame,
  encodeTick,
  type NodeMessage,
} from "../../../src/runtime/cluster/bus-codec.ts";
import type { TickEntry } from "../../../src/runtime/cluster/broker.ts";
import { openIdentity, type Identity } from "../../../src/core/identity/rights.ts";

const frame = (drone: string, seq: number, data: object = { x: 1.5, y: -2, state: "hovering" }): TickEntry => ({
  drone,
  seq,
  dataJson: JSON.stringify({ drone, seq, ...data }),
});

describe("tick", () => {
  test("round-trips its frames in order, with the sender and the time", () => {
    const entries = [frame("alpha", 0), frame("bravo", 41), frame("charlie", Number.MAX_SAFE_INTEGER)];
    const text = encodeTick("node-a", 1_764_500_000_123.4, entries);
    expect(busSender(text)).toBe("node-a");
    expect(decodeBusMessage(text)).toEqual({ kind: "tick", node: "node-a", timeMs: 1_764_500_000_123, entries });
  });

  test("an empty tick round-trips to no frames", () => {
    expect(decodeBusMessage(encodeTick("n", 5, []))).toEqual({ kind: "tick", node: "n", timeMs: 5, entries: [] });
  });

  test("tabs and newlines inside the frames' JSON strings survive: JSON escapes them", () => {
    const entries = [frame("alpha", 3, { note: "tab\there\nnewline\r\nand\u2028line separator" }), frame("bravo", 4, { note: "\t\n" })];
    const decoded = decodeBusMessage(encodeTick("a", 1, entries));
    expect(decoded).toEqual({ kind: "tick", node: "a", timeMs: 1, entries });
    if (decoded?.kind !== "tick") throw new Error("not a tick");
    expect(JSON.parse(decoded.entries[0]!.dataJson).note).toBe("tab\there\nnewline\r\nand\u2028line separator");
  });

  test("a frame line with a bad seq is dropped and the others are kept", () => {
    const good = frame("alpha", 7);
    const lines = [
      "alpha\t-1\t{}", // negative
      "alpha\t9007199254740993\t{}", // beyond a safe integer
      `alpha\t${"9".repeat(400)}\t{}`, // huge
      "alpha\t1.5\t{}", // not an integer
      "alpha\t1e3\t{}", // not plain digits
      "alpha\t0x10\t{}",
      "alpha\t\t{}", // empty seq
      "alpha\t 5\t{}",
      "alpha\t5", // no data
      "alpha\t5\t", // empty data
      "\t5\t{}", // no drone
      "alpha", // truncated
      "",
      `${good.drone}\t${good.seq}\t${good.dataJson}`,
    ];
    expect(decodeBusMessage(`T\ta\t10\n${lines.join("\n")}`)).toEqual({ kind: "tick", node: "a", timeMs: 10, entries: [good] });
  });

  test("a truncated or malformed header is null", () => {
    for (const text of ["", "T", "T\t", "T\ta", "T\ta\t", "T\ta\t10", "T\t\t10\nalpha\t1\t{}", "T\ta\t-10\n", "T\ta\tsoon\n", "T\ta\t1.5\n", "Ta\t10\n", "T\na\t10\n"]) {
      expect(decodeBusMessage(text)).toBeNull();
    }
  });
});

describe("stream epochs (issue 19 #7)", () => {
  const withEpoch = (drone: string, seq: number, epoch: string): TickEntry => ({ ...frame(drone, seq), epoch });

  test("a frame's epoch travels on the bus and in the stored list", () => {
    const entries = [withEpoch("alpha", 7, "Qx3v9LkT2aE"), withEpoch("bravo", 0, "b7Hs0PqZk1w")];
    expect(decodeBusMessage(encodeTick("node-a", 5, entries))).toEqual({ kind: "tick", node: "node-a", timeMs: 5, entries });
    expect(encodeStoredFrame(entries[0]!)).toBe(`7\tQx3v9LkT2aE\t${entries[0]!.dataJson}`);
    expect(decodeStoredFrame("alpha", encodeStoredFrame(entries[0]!))).toEqual(entries[0]!);
  });

  test("an entry written before epochs still decodes, without one", () => {
    expect(decodeStoredFrame("alpha", '12\t{"seq":12}')).toEqual({ drone: "alpha", seq: 12, dataJson: '{"seq":12}' });
  });

  test("a bad epoch is null", () => {
    for (const stored of ["12\tE1", "12\tE1\t", "12\t\t{}", "12\tE 1\t{}", `12\t${"E".repeat(33)}\t{}`, "12\tE\u00e91\t{}"]) expect(decodeStoredFrame("alpha", stored)).toBeNull();
  });
});

describe("notice and session closed", () => {
  test("a notice round-trips, tabs in its text included", () => {
    const text = JSON.stringify({ type: "event", data: { drone: "alpha", kind: "failsafe", message: "tab\tand\nnewline" } });
    const encoded = encodeNotice("node-b", "alpha", text);
    expect(busSender(encoded)).toBe("node-b");
    expect(decodeBusMessage(encoded)).toEqual({ kind: "notice", node: "node-b", drone: "alpha", text });
    const tabbed = '{"type":"event",\t"data":{}}';
    expect(decodeBusMessage(`N\tb\talpha\t${tabbed}`)).toEqual({ kind: "notice", node: "b", drone: "alpha", text: tabbed });
  });

  test("a notice without a drone, or whose text is not a JSON message, is null", () => {
    const hostile = ["N\tb", "N\tb\t", "N\tb\talpha", "N\tb\talpha\t", 'N\tb\t\t{"type":"lease"}', "N\tb\talpha\t{", "N\tb\talpha\tnull", 'N\tb\talpha\t["type"]', 'N\tb\talpha\t{"type":1}', 'N\tb\talpha\t{"data":{}}'];
    for (const text of hostile) expect(decodeBusMessage(text)).toBeNull();
  });

  test("a closed session round-trips, with the reason its leases end when it is not a plain disconnect; an empty or malformed one is null", () => {
    expect(decodeBusMessage(encodeSessionClosed("node-c", "s-42"))).toEqual({ kind: "session_closed", node: "node-c", session: "s-42" });
    expect(decodeBusMessage(encodeSessionClosed("node-c", "s-42", "pilot silent for 5 s (no message or pong)"))).toEqual({
      kind: "session_closed",
      node: "node-c",
      session: "s-42",
      reason: "pilot silent for 5 s (no message or pong)",
    });
    // A reason never breaks the line format.
    expect(decodeBusMessage(encodeSessionClosed("node-c", "s-42", "a\tb\nc"))).toMatchObject({ reason: "a b c" });
    for (const text of ["C\tc", "C\tc\t", "C\tc\ts\t", "C\tc\ts\tx\ty", "C\tc\ts\nx"]) expect(decodeBusMessage(text)).toBeNull();
  });

  test("an unknown kind is null; the sender is still readable to drop one's own", () => {
    expect(decodeBusMessage("X\tnode-a\tanything")).toBeNull();
    expect(busSender("X\tnode-a\tanything")).toBe("node-a");
    expect(busSender("garbage")).toBeNull();
    expect(busSender("T\t\t5\n")).toBeNull();
  });
});

describe("stored frames, pilot record, owner report", () => {
  test("a stored frame round-trips; the drone comes from the key", () => {
    const entry = frame("alpha", 12, { note: "a\tb" });
    expect(decodeStoredFrame("alpha", encodeStoredFrame(entry))).toEqual(entry);
  });

  test("a malformed stored frame is null", () => {
    for (const stored of ["", "12", "12\t", "\t{}", "-1\t{}", "x\t{}", "99999999999999999\t{}"]) expect(decodeStoredFrame("alpha", stored)).toBeNull();
  });

  test("a stored frame's data parses for a takeover; anything without a seq is null", () => {
    const entry = frame("alpha", 12);
    expect(decodeFrameData(entry.dataJson)).toEqual(JSON.parse(entry.dataJson));
    for (const json of ["", "{", "[]", "null", "7", '{"seq":-1}', '{"seq":"3"}', '{"seq":1.5}', '{"x":1}']) expect(decodeFrameData(json)).toBeNull();
  });

  test("a pilot record round-trips; a missing or malformed one is null", () => {
    expect(decodePilotRecord(encodePilotRecord({ session: "s-1", node: "node-b" }))).toEqual({ session: "s-1", node: "node-b" });
    for (const stored of [null, undefined, 42, "", "s-1", "s-1\t", "\tnode", "a\tb\tc"]) expect(decodePilotRecord(stored)).toBeNull();
  });

  test("the owner report: taken, owned elsewhere, or nobody", () => {
    expect(decodeOwnerReport("+node-a")).toEqual({ owner: "node-a", taken: true });
    expect(decodeOwnerReport("node-b")).toEqual({ owner: "node-b", taken: false });
    for (const reported of ["", "+", null, undefined, 3]) expect(decodeOwnerReport(reported)).toEqual({ owner: null, taken: false });
  });

  test("the fencing epoch: a decimal string; anything else is 0", () => {
    expect(decodeOwnerEpoch("7")).toBe(7);
    expect(decodeOwnerEpoch("0")).toBe(0);
    for (const reported of ["", "-1", "1.5", "x", "99999999999999999", null, undefined, 3]) expect(decodeOwnerEpoch(reported)).toBe(0);
  });
});

/** A signed-in identity, as a forwarded op carries it to the owner node. */
const alice: Identity = { user: "alice", name: "Alice", rights: { view: ["*"], fly: ["alpha"], admin: false }, source: "jwt" };

describe("node channel", () => {
  const messages: NodeMessage[] = [
    { kind: "op", corr: 1, from: "node-b", op: { kind: "claim", drone: "alpha", session: "s-1", identity: openIdentity } },
    { kind: "op", corr: 2, from: "node-b", op: { kind: "release", drone: "alpha", session: "s-1", identity: alice } },
    { kind: "op", corr: 3, from: "node-b", op: { kind: "release", drone: "alpha", session: "s-1", identity: alice }, expiresAtMs: 1_700_000_002_500 },
    {
      kind: "op",
      corr: 4,
      from: "node-b",
      op: { kind: "command", drone: "alpha", session: "s-1", identity: alice, command: { name: "goto", x: 1, y: 2 } as never, label: "goto\t1 2", form: "json", requestId: 9 },
    },
    { kind: "reply", corr: 4, result: { ok: true, data: { drone: "alpha", command: "goto", target: { x: 1, y: 2, z: 10, heading: 0, speedLimit: 5 } } as never } },
    { kind: "reply", corr: 5, result: { ok: false, error: { code: "not_pilot", message: "line\none" } } },
    { kind: "done", session: "s-1", text: JSON.stringify({ type: "done", data: { status: "completed" } }) },
  ];

  test("every message round-trips", () => {
    for (const message of messages) expect(decodeNodeMessage(encodeNodeMessage(message))).toEqual(message);
  });

  test("malformed messages are null, never thrown", () => {
    const hostile = [
      "",
      "{",
      encodeNodeMessage(messages[0]!).slice(0, -3), // truncated
      "null",
      "[]",
      '"op"',
      "{}",
      '{"kind":"launch","corr":1}',
      '{"kind":"op","corr":0,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":-1,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":1.5,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":1e300,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":"1","from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":1,"op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha"}}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"fly","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"status","drone":"alpha"}}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"command","drone":"alpha","session":"s","label":"x","form":"json"}}',
      '{"kind":"op","corr":1,"from":"b","op":null}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha","session":"s"},"expiresAtMs":"soon"}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":["*"],"admin":false},"source":"open"},"kind":"claim","drone":"alpha","session":"s"},"expiresAtMs":-5}',
      '{"kind":"reply","corr":1}',
      '{"kind":"reply","corr":1,"result":{"ok":true}}',
      '{"kind":"reply","corr":1,"result":{"ok":false,"error":{"code":"x"}}}',
      '{"kind":"reply","corr":1,"result":{"ok":"yes","data":{}}}',
      '{"kind":"done","session":"s"}',
      '{"kind":"done","session":"","text":"{}"}',
      // The owner decides on the sender's rights: an op without a well-formed identity is never run.
      '{"kind":"op","corr":1,"from":"b","op":{"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"u","rights":{"view":["*"],"fly":"*","admin":false},"source":"jwt"},"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"","rights":{"view":[],"fly":[],"admin":true},"source":"jwt"},"kind":"claim","drone":"alpha","session":"s"}}',
      '{"kind":"op","corr":1,"from":"b","op":{"identity":{"user":"u","rights":{"view":[],"fly":[],"admin":true},"source":"root"},"kind":"claim","drone":"alpha","session":"s"}}',
    ];
    for (const text of hostile) expect(decodeNodeMessage(text)).toBeNull();
  });
});

describe("mission record", () => {
  const items = [{ type: "takeoff" as const, altitude: 10 }, { type: "waypoint" as const, lat: 51.5, lon: -0.1, altitude: 15, holdSeconds: 2 }, { type: "land" as const }];
  const progress = { current: 1, reached: [0], distanceToGo: 120.5, etaSeconds: 30.2, state: "running" as const };

  test("round-trips with its progress, its reason, or none", () => {
    for (const record of [{ items, progress }, { items, progress: { ...progress, state: "paused" as const, reason: "paused by the pilot" } }, { items, progress: null }]) {
      expect(decodeMissionRecord(encodeMissionRecord(record))).toEqual(record);
    }
  });

  test("anything malformed is null: items a pilot could not upload, progress pointing outside them, bad numbers", () => {
    const bad: unknown[] = [
      undefined,
      null,
      42,
      "",
      "{",
      "[]",
      JSON.stringify({ items: [], progress: null }),
      JSON.stringify({ items: [{ type: "loop" }], progress: null }),
      JSON.stringify({ items: [{ type: "waypoint", lat: 91, lon: 0, altitude: 5 }], progress: null }),
      JSON.stringify({ items }),
      JSON.stringify({ items, progress: { ...progress, state: "flying" } }),
      JSON.stringify({ items, progress: { ...progress, current: 4 } }),
      JSON.stringify({ items, progress: { ...progress, current: -1 } }),
      JSON.stringify({ items, progress: { ...progress, reached: [3] } }),
      JSON.stringify({ items, progress: { ...progress, reached: "0" } }),
      JSON.stringify({ items, progress: { ...progress, distanceToGo: -1 } }),
      JSON.stringify({ items, progress: { ...progress, etaSeconds: "soon" } }),
      JSON.stringify({ items, progress: { ...progress, reason: 7 } }),
    ];
    for (const stored of bad) expect(decodeMissionRecord(stored)).toBeNull();
  });
});
