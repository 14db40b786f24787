/**
 * Every JSON example in docs/protocol.md, checked against the protocol
 * module (the Deno `--doc` idea): a client message must parse with
 * `parseEnvelope`, or, when the doc shows the `error` it gets (the next
 * example, same id), yield exactly that error; a server message must have a
 * known type and exactly the data keys its type declares.
 */
import { describe, expect, test } from "bun:test";
import { clientDataKeys, parseEnvelope, serverDataShapes, serverMessageProblem } from "../../protocol/index.ts";
import { jsonExamplesIn } from "../support/doc-json.ts";

const docPath = new URL("../../docs/protocol.md", import.meta.url);
const doc = await Bun.file(docPath).text();

type Example = { type: string; id?: string | number; data?: unknown };

const examples = jsonExamplesIn(doc);
const parsed = examples.flatMap((text) => {
  try {
    return [{ text, value: JSON.parse(text) as Example }];
  } catch {
    return []; // reported by the first test
  }
});
const isClientType = (type: string) => Object.hasOwn(clientDataKeys, type);

test("the doc has JSON examples, every one valid JSON (no elisions), of a known type", () => {
  expect(examples.length).toBeGreaterThan(15);
  expect(examples.filter((text) => !parsed.some((example) => example.text === text))).toEqual([]);
  for (const { text, value } of parsed) {
    expect(isClientType(value.type) || Object.hasOwn(serverDataShapes, value.type), text).toBe(true);
  }
});

describe("client messages parse, or yield exactly the error shown after them", () => {
  parsed.forEach(({ text, value }, index) => {
    if (!isClientType(value.type)) return;
    const next = parsed[index + 1]?.value;
    const answeredWithError = next?.type === "error" && next.id === value.id;
    test(text, () => {
      const result = parseEnvelope(text);
      if (!answeredWithError) {
        expect(result.ok).toBe(true);
        return;
      }
      expect(result).toEqual({ ok: false, error: next.data as never, ...(value.id === undefined ? {} : { id: value.id }) });
    });
  });
});

describe("server messages have their type's shape", () => {
  for (const { text, value } of parsed) {
    if (isClientType(value.type)) continue;
    test(text.length > 100 ? `${text.slice(0, 100)}...` : text, () => {
      expect(serverMessageProblem(value)).toBeNull();
    });
  }
});

test("the shape check refuses what the types do not declare", () => {
  expect(serverMessageProblem({ type: "lease", data: { drone: "a", pilot: null } })).toContain("no lease shape");
  expect(serverMessageProblem({ type: "lease", data: { drone: "a", pilot: null, reason: "x", extra: 1 } })).toContain("no lease shape");
  expect(serverMessageProblem({ type: "lease", id: 1, data: { drone: "a", pilot: null, reason: "x" } })).toContain("no field");
  expect(serverMessageProblem({ type: "event", data: { drone: "a", kind: "low_battery", message: "m", lost: 3 } })).toContain("no event shape");
  expect(serverMessageProblem({ type: "teleport", data: {} })).toContain("unknown type");
  expect(serverMessageProblem({ type: "pong", id: "p", data: { time: 5 } })).toBeNull();
});
