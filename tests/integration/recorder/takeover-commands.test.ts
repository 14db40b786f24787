/**
 * A takeover's reads against a real SQLite store, held back by the test: a
 * command that reaches the new owner while they run (no flight is open here
 * yet) still belongs to the flight the takeover carries on, however long the
 * reads take (the race a loaded machine showed in tests/e2e/recorder-postgres).
 */
import { afterAll, expect, test } from "bun:test";
import { sharedViewerIdentity } from "../../../src/core/identity/rights.ts";
import { collectingLogger } from "../../../src/runtime/observability/log.ts";
import { Recorder } from "../../../src/runtime/recorder/recorder.ts";
import { openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { emptyBatch, type RecorderStore, type StreamRow } from "../../../src/runtime/recorder/store.ts";
import { flightRow, tempDataDir } from "../../support/recorder.ts";

const dir = tempDataDir();
afterAll(() => dir.remove());

test("a command sent while a takeover reads the store belongs to the flight it carries on", async () => {
  const store = openSqliteStore(dir.path);
  const startedAt = Date.UTC(2026, 0, 1);
  const open = { ...flightRow("alpha-1767225600000", "alpha", startedAt), endedAt: null, endReason: null };
  const before = emptyBatch();
  before.flights.push(open);
  before.streams.push({ drone: "alpha", epoch: "e1", seq: 40, time: startedAt + 4000, flightId: open.id, data: JSON.stringify({ position: { x: 0, y: 3, z: 5 } }) });
  await store.write(before);

  // The stream read waits until the test lets it answer.
  let answer: () => void = () => {};
  const released = new Promise<void>((resolve) => (answer = resolve));
  const slow: RecorderStore = Object.assign(Object.create(store) as RecorderStore, {
    streams: async (): Promise<StreamRow[]> => {
      await released;
      return store.streams();
    },
  });
  let wallMs = startedAt + 6000;
  const recorder = new Recorder(slow, { recordHz: 10 }, collectingLogger(), { monotonicMs: () => wallMs - startedAt, wallMs: () => wallMs });

  recorder.takeOver("alpha", "node node-a stopped answering");
  const handle = recorder.commandReceived({ kind: "command", drone: "alpha", session: "s-2", identity: sharedViewerIdentity, command: { name: "land" }, label: "land", form: "json", requestId: "l" });
  recorder.commandAnswered(handle, { ok: true, data: { drone: "alpha", command: "land", target: { x: 0, y: 3, z: 0, heading: 0, speedLimit: 1 } } });
  wallMs += 500;
  answer();
  await Bun.sleep(10);
  await recorder.flush();

  const commands = await store.commands(open.id);
  expect(commands.map((command) => [command.requestId, command.answer])).toEqual([[JSON.stringify("l"), "ack"]]);
  await store.close();
});
