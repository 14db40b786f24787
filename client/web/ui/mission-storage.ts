/**
 * The plan being edited, kept in the browser per vehicle (localStorage), so
 * a reload or a closed tab does not lose a route that was not uploaded yet.
 *
 * Owns the storage keys and the stored shape. A stored plan that cannot be
 * read (another version's, edited by hand) is dropped, never half-loaded;
 * storage that is off (private mode) keeps the plan for this visit only.
 * Whether a plan is valid is not its question: a plan is kept as edited.
 */
import type { MissionItem } from "../../../protocol/index.ts";

/** Prefix of each vehicle's key: `skyport.mission.draft.alpha`. */
const draftKeyPrefix = "skyport.mission.draft.";
/** Version of the stored shape; a stored plan of another version is dropped. */
const draftVersion = 1;
const kinds: readonly string[] = ["takeoff", "waypoint", "land", "rth"];
/** Numbers a plan must have (JSON keeps a cleared one as null: it comes back NaN, for the check to name). */
const requiredNumbers = ["altitude", "lat", "lon"] as const;

/** The part of `Storage` a plan needs (localStorage in the page). */
export type DraftStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

interface StoredDraft {
  version: number;
  items: readonly unknown[];
}

/** The plan stored for `drone`, or null when there is none (or it cannot be read). */
export function loadDraft(drone: string, storage: DraftStorage | null = browserStorage()): MissionItem[] | null {
  let text: string | null = null;
  try {
    text = storage?.getItem(draftKeyPrefix + drone) ?? null;
  } catch {
    return null;
  }
  if (text === null) return null;
  try {
    const stored = JSON.parse(text) as StoredDraft;
    if (stored.version !== draftVersion || !Array.isArray(stored.items)) return null;
    const items = stored.items.map(revive);
    return items.every((item) => item !== null) ? (items as MissionItem[]) : null;
  } catch {
    return null;
  }
}

/** Keeps `items` as the plan for `drone`; null forgets it (uploaded or discarded). */
export function saveDraft(drone: string, items: readonly MissionItem[] | null, storage: DraftStorage | null = browserStorage()): void {
  try {
    if (items === null) storage?.removeItem(draftKeyPrefix + drone);
    else storage?.setItem(draftKeyPrefix + drone, JSON.stringify({ version: draftVersion, items } satisfies StoredDraft));
  } catch {
    // Storage may be off or full: the plan then lasts for this visit.
  }
}

/** One stored item back as a mission item, or null when it is not one. */
function revive(value: unknown): MissionItem | null {
  if (typeof value !== "object" || value === null || !kinds.includes((value as { type?: unknown }).type as string)) return null;
  const item: Record<string, unknown> = { ...value };
  for (const field of requiredNumbers) if (field in item && item[field] === null) item[field] = Number.NaN;
  return item as unknown as MissionItem;
}

function browserStorage(): DraftStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
