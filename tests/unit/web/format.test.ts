/** How the dashboard writes numbers: one decimal, and never a "-0.0" for a vehicle resting a few centimetres "below" its pad. */
import { expect, test } from "bun:test";
import { formatMetres, formatSpeed, oneDecimal } from "../../../client/web/ui/format.ts";

test("one decimal, with no negative zero", () => {
  expect([oneDecimal(-0.04), oneDecimal(-0), oneDecimal(0.04), oneDecimal(-0.05), oneDecimal(12.34)]).toEqual(["0.0", "0.0", "0.0", "-0.1", "12.3"]);
  expect(formatMetres(-0.01)).toBe("0.0 m");
  expect(formatSpeed(-0.02)).toBe("0.0 m/s");
});
