/**
 * The plan kept per vehicle in the browser (client/web/ui/mission-storage.ts):
 * it round-trips, a cleared number comes back NaN, null forgets it, and a
 * stored plan that cannot be read is dropped whole.
 */
import { expect, test } from "bun:test";
import type { MissionItem } from "../../../protocol/index.ts";
import { loadDraft, saveDraft } from "../../../client/web/ui/mission-storage.ts";

test("a plan round-trips per vehicle; null forgets it; junk or another version reads as none", () => {
  const store = new Map<string, string>();
  const storage = { getItem: (key: string) => store.get(key) ?? null, setItem: (key: string, value: string) => void store.set(key, value), removeItem: (key: string) => void store.delete(key) };
  const plan: MissionItem[] = [{ type: "takeoff", altitude: Number.NaN }, { type: "waypoint", lat: 51.4779, lon: -0.0015, altitude: 15, holdSeconds: 2 }, { type: "land" }];
  saveDraft("alpha", plan, storage);
  expect(loadDraft("bravo", storage)).toBeNull();
  const loaded = loadDraft("alpha", storage)!;
  expect(loaded.slice(1)).toEqual(plan.slice(1));
  expect((loaded[0] as { altitude: number }).altitude).toBeNaN();
  saveDraft("alpha", null, storage);
  expect(loadDraft("alpha", storage)).toBeNull();
  expect(store.size).toBe(0);
  store.set("skyport.mission.draft.alpha", "{not json");
  expect(loadDraft("alpha", storage)).toBeNull();
  store.set("skyport.mission.draft.alpha", JSON.stringify({ version: 99, items: [] }));
  expect(loadDraft("alpha", storage)).toBeNull();
  store.set("skyport.mission.draft.alpha", JSON.stringify({ version: 1, items: [{ type: "loop" }] }));
  expect(loadDraft("alpha", storage)).toBeNull();
});
