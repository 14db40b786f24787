/**
 * The map's round numbers: how far the first view reaches (a 1-2-5 series,
 * so it is always a round number of metres) and how far apart the grid rings
 * are drawn when there are no tiles. Pure arithmetic, no DOM.
 */

/** Smallest view radius, metres: a drone on the pad still gets a readable map. */
const minViewRadiusMetres = 10;
/** Room kept around the farthest thing shown, as a fraction of its distance from home. */
const viewMarginFraction = 0.2;

/** The 1-2-5 series radius (10, 20, 50, 100, ...) that holds `extentMetres` with a margin. */
export function viewRadiusMetres(extentMetres: number): number {
  const needed = Math.max(minViewRadiusMetres, extentMetres * (1 + viewMarginFraction));
  let decade = 10 ** Math.floor(Math.log10(needed));
  for (;;) {
    for (const factor of [1, 2, 5]) {
      if (decade * factor >= needed) return decade * factor;
    }
    decade *= 10;
  }
}

/** Spacing of the grid rings for a view radius, metres: about four to five rings. */
export function ringSpacingMetres(radiusMetres: number): number {
  return niceBelow(radiusMetres / 4);
}

/** The largest 1-2-5 series number not above `value`. */
function niceBelow(value: number): number {
  const decade = 10 ** Math.floor(Math.log10(value));
  for (const factor of [5, 2, 1]) if (decade * factor <= value) return decade * factor;
  return decade;
}

/** Other drones closer together than this on the map, pixels, share one label. */
export const sharedPlacePx = 14;
/** Names listed in a shared label before "+N more". */
const namesPerLabel = 3;

/**
 * The drones grouped by where they are: each group holds drones within
 * `within` of its first member (greedy, in the given order; any unit, as
 * long as positions and `within` share it).
 */
export function groupByPlace<T extends { position: { x: number; y: number } }>(frames: readonly T[], within: number): T[][] {
  const groups: T[][] = [];
  for (const frame of frames) {
    const near = groups.find((group) => Math.hypot(group[0]!.position.x - frame.position.x, group[0]!.position.y - frame.position.y) <= within);
    if (near) near.push(frame);
    else groups.push([frame]);
  }
  return groups;
}

/** "beta", "beta, gamma", or "beta, gamma, delta +10 more". */
export function groupLabel(ids: readonly string[]): string {
  const shown = ids.slice(0, namesPerLabel).join(", ");
  return ids.length > namesPerLabel ? `${shown} +${ids.length - namesPerLabel} more` : shown;
}
