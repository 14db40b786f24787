/** `subscribe` `maxHz`: the per-subscription rate a viewer asks for, validated in the envelope with a clear refusal. */
import { expect, test } from "bun:test";
import { maxHzRange, parseEnvelope } from "../../protocol/index.ts";

function parse(data: unknown) {
  return parseEnvelope(JSON.stringify({ type: "subscribe", id: "s", data }));
}

test("maxHz within the range is carried, for one drone and for every drone", () => {
  for (const data of [
    { drone: "alpha", maxHz: 2 },
    { drone: "alpha", maxHz: maxHzRange.min, since: 4 },
    { drone: "*", maxHz: maxHzRange.max },
    { drone: "*", maxHz: 0.5, since: { alpha: 1 } },
  ]) {
    const parsed = parse(data);
    if (!parsed.ok) throw new Error(`expected ${JSON.stringify(data)} to parse: ${parsed.error.message}`);
    expect(parsed.message.type === "subscribe" && parsed.message.data.maxHz).toBe(data.maxHz);
  }
  const plain = parse({ drone: "alpha" });
  expect(plain.ok && plain.message.type === "subscribe" && "maxHz" in plain.message.data).toBe(false);
});

test.each([[0], [-1], [0.05], [100.5], [1e9], ["2"], [null], [true], [[2]], [{ hz: 2 }]])("maxHz %j is refused, naming the field, the range and what was received", (maxHz) => {
  const parsed = parse({ drone: "alpha", maxHz });
  if (parsed.ok) throw new Error(`expected maxHz ${JSON.stringify(maxHz)} to be refused`);
  expect(parsed.error.code).toBe("invalid_args");
  expect(parsed.error.field).toBe("data.maxHz");
  expect(parsed.error.message).toStartWith(`data.maxHz must be a number of frames per second from ${maxHzRange.min} to ${maxHzRange.max}: received `);
  expect(parsed.id).toBe("s");
});
