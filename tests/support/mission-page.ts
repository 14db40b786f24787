/**
 * Helpers for driving the dashboard's mission editor in real Chromium:
 * plan by clicking the map around home, read and edit the side list, wait
 * for the mission's state. Reads the page through ids and data-* attributes
 * only (`#mission-status[data-state]`, `.mission-marker[data-item]`, list
 * rows' `data-type` and inputs' `data-field`), never formatted text.
 */
import { waitMs, type DashboardPage } from "./dashboard.ts";

/**
 * Where the map drew the selected vehicle (on home before it flies), page
 * pixels, with the map scrolled into view; waits until it is drawn inside
 * the map (an autopilot reports 0°, 0° until its GPS has a fix). `timeout` in milliseconds.
 */
export async function homePoint(page: DashboardPage, timeout = waitMs): Promise<{ x: number; y: number }> {
  await page.locator("#map").scrollIntoViewIfNeeded();
  const handle = await page.waitForFunction(
    () => {
      const at = document.getElementById("map-overlay")?.dataset.selectedAt;
      if (at === undefined) return null;
      const [x, y] = at.split(",").map(Number);
      const map = document.getElementById("map")!.getBoundingClientRect();
      return x! >= 0 && y! >= 0 && x! <= map.width && y! <= map.height ? at : null;
    },
    undefined,
    { timeout },
  );
  const [x, y] = String(await handle.jsonValue()).split(",").map(Number);
  const map = (await page.locator("#map").boundingBox())!;
  return { x: map.x + x!, y: map.y + y! };
}

/** Starts planning and clicks the map at each offset from home (pixels, y down): one waypoint each, after the takeoff a new plan starts with. */
export async function planByClicking(page: DashboardPage, offsets: ReadonlyArray<readonly [number, number]>): Promise<void> {
  await page.click("#mission-plan");
  await page.locator('#mission-panel[data-planning="true"]').waitFor();
  const at = await homePoint(page);
  for (const [index, [dx, dy]] of offsets.entries()) {
    await page.mouse.click(at.x + dx, at.y + dy);
    // The takeoff is item 0: the waypoint clicked is item index + 1.
    await page.locator(`.mission-marker[data-item="${index + 1}"]`).waitFor();
  }
}

/** The items shown in the side list: each row's type and its inputs' values. */
export function listedItems(page: DashboardPage): Promise<Array<Record<string, string>>> {
  return page.$$eval("#mission-items li", (rows) =>
    rows.map((row) => {
      const item: Record<string, string> = { type: (row as HTMLElement).dataset.type ?? "" };
      for (const input of row.querySelectorAll<HTMLInputElement>("input[data-field]")) if (input.value !== "") item[input.dataset.field!] = input.value;
      return item;
    }),
  );
}

/** Types `value` into item `item`'s `field` and commits it (Enter), as a pilot does. */
export async function setField(page: DashboardPage, item: number, field: string, value: string): Promise<void> {
  const input = page.locator(`#mission-items li[data-item="${item}"] input[data-field="${field}"]`);
  await input.fill(value);
  await input.press("Enter");
}

/** Waits until the panel shows the mission in `state` (`none`, `planning`, `ready`, `running`, `paused`, `completed`, `aborted`); `timeout` in milliseconds. */
export async function missionState(page: DashboardPage, state: string, timeout = waitMs): Promise<void> {
  await page.locator(`#mission-status[data-state="${state}"]`).waitFor({ timeout });
}

/** The mission's state as the panel shows it now. */
export async function shownMissionState(page: DashboardPage): Promise<string> {
  return (await page.getAttribute("#mission-status", "data-state")) ?? "";
}

/** Five waypoints around home, pixels from it (a few tens of metres at the map's first view). */
export const fiveWaypoints = [
  [40, -30],
  [80, -30],
  [80, 20],
  [40, 40],
  [0, 30],
] as const;
