/**
 * docs/protocol.md's error and event tables against the protocol's types:
 * every error code and every event kind has exactly one row, and no row
 * names a code or kind that does not exist (issue 16). The lists below are
 * checked by the compiler (`satisfies Record<..., true>`): adding a code to
 * the protocol without adding it here fails the type check.
 */
import { expect, test } from "bun:test";
import type { ErrorCode, EventKind } from "../../protocol/index.ts";

const errorCodes = Object.keys({
  invalid_json: true,
  invalid_message: true,
  unknown_type: true,
  unknown_command: true,
  invalid_args: true,
  invalid_id: true,
  too_many_subscriptions: true,
  rate_limited: true,
  unauthorized: true,
  forbidden: true,
  unknown_drone: true,
  not_pilot: true,
  lease_taken: true,
  drone_unavailable: true,
  not_supported: true,
  no_mission: true,
  not_flying: true,
  already_flying: true,
  geofence: true,
  battery_low: true,
  emergency: true,
  busy: true,
  out_of_range: true,
  read_only: true,
  unknown_flight: true,
} satisfies Record<ErrorCode, true>);

const eventKinds = Object.keys({
  failsafe: true,
  pilot_regained: true,
  geofence: true,
  low_battery: true,
  critical_battery: true,
  landed: true,
  frames_lost: true,
  frames_dropped: true,
  stream_reset: true,
  failover: true,
  link_lost: true,
  link_regained: true,
  autopilot: true,
  vehicle_warning: true,
  token_expiring: true,
} satisfies Record<EventKind, true>);

const doc = await Bun.file(new URL("../../docs/protocol.md", import.meta.url)).text();

/** The first column of the table under the line `| header | ...`. */
function tableKeys(header: string): string[] {
  const start = doc.indexOf(`| ${header} |`);
  expect(start).toBeGreaterThan(-1);
  const rows = doc.slice(start).split("\n").slice(2);
  const keys: string[] = [];
  for (const row of rows) {
    const match = /^\| `([a-z_]+)` \|/.exec(row);
    if (!match) break;
    keys.push(match[1]!);
  }
  return keys;
}

test("the error table has a row for every error code, and none other", () => {
  expect(tableKeys("code").sort()).toEqual([...errorCodes].sort());
});

test("the event table has a row for every event kind, and none other", () => {
  expect(tableKeys("kind").sort()).toEqual([...eventKinds].sort());
});
