/** The CLI's drone target: tokens from flags and the environment, and refusals in words. */
import { describe, expect, test } from "bun:test";
import { droneTarget, refusalLine } from "../../../client/cli/commands/drone-link.ts";
import { UsageError } from "../../../client/cli/args.ts";

describe("tokens", () => {
  test("a flag wins over its environment variable; an empty variable counts as unset", () => {
    expect(droneTarget({ token: "flag" }, { SKYPORT_TOKEN: "env", SKYPORT_PILOT_TOKEN: "pilot-env" }).tokens).toEqual({ token: "flag", pilotToken: "pilot-env" });
    expect(droneTarget({ "pilot-token": "p" }, { SKYPORT_TOKEN: "" }).tokens).toEqual({ pilotToken: "p" });
    expect(droneTarget({}, {}).tokens).toEqual({});
  });

  test("an empty --token is a usage error naming the flag", () => {
    expect(() => droneTarget({ token: "" }, {})).toThrow(new UsageError(`--token needs a non-empty token: received ""`));
  });
});

test("each refusal says where the CLI takes the token from", () => {
  expect(refusalLine({ kind: "viewer_token_required", message: "this server needs a viewer token", serverMessage: "" })).toBe("this server needs a viewer token: pass --token or set SKYPORT_TOKEN");
  expect(refusalLine({ kind: "pilot_token_wrong", message: "wrong pilot token", serverMessage: "" })).toBe("wrong pilot token: pass --pilot-token or set SKYPORT_PILOT_TOKEN");
  expect(refusalLine({ kind: "token_refused", message: "too many failed token attempts from your address: try again in 3 s", serverMessage: "" })).toBe("token refused: too many failed token attempts from your address: try again in 3 s");
});
