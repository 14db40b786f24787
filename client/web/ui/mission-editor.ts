/**
 * The mission panel of the selected vehicle: planning a route (the map's
 * clicks add waypoints, the side list edits them), sending it (upload,
 * start, pause, resume, clear), following the vehicle's mission and its
 * progress, and `.plan` files in and out.
 *
 * Owns #mission-panel and the page's mission state: the plan being edited
 * per vehicle (kept in the browser, `mission-storage.ts`), and the mission
 * each vehicle holds with its progress, as the server last said. Planning
 * is local to this browser and open to any visitor (as in QGroundControl);
 * what changes a vehicle's mission is sent only by its pilot, through
 * `MissionActions`. A vehicle's mission is never edited in place: planning
 * starts from a copy of it.
 */
import { missionToPlan, planToMission, type MissionData, type MissionItem, type MissionMessageType, type MissionProgressData } from "../../../protocol/index.ts";
import { byId, setText } from "./dom.ts";
import { formatMetres } from "./format.ts";
import { itemField, planProblems, type ItemProblem, type PlanFence, type PlanProblems } from "./mission-check.ts";
import { withAdded, withField, without, withMoved, withWaypoint, withWaypointAt, type AddableKind, type EditableField } from "./mission-draft.ts";
import { MissionList } from "./mission-list.ts";
import { MissionRoute, type ItemProgress } from "./mission-route.ts";
import { loadDraft, saveDraft } from "./mission-storage.ts";
import type { LatLon } from "./map-geo.ts";
import type * as L from "leaflet";

/** Where a vehicle is on Earth, for the route and for a `.plan`'s home; null fields while it has not said. */
export interface MissionVehicle {
  home: LatLon | null;
  /** Home's altitude above mean sea level, metres. */
  homeAltitudeMsl: number | null;
}

/** What the panel asks of the page. */
export interface MissionActions {
  /** Whether this page is the pilot of `drone` now; only then are its mission's buttons enabled. */
  mayFly(drone: string): boolean;
  /**
   * Sends a mission message and resolves once the vehicle has acted (its
   * `done`): with null when it completed, else why it failed. Rejects with
   * the server's refusal (`message`, and `field` naming the item).
   */
  send(drone: string, type: MissionMessageType, items?: MissionItem[]): Promise<string | null>;
  vehicle(drone: string): MissionVehicle;
  /** The geofence the server announced, null before its welcome. */
  fence(): PlanFence | null;
  /** Planning began or ended for the selected vehicle (the map's clicks change meaning). */
  planningChanged(planning: boolean): void;
}

/** A refusal or failure to show: about one item (next to it) or the whole mission (under the status). */
interface Shown {
  drone: string;
  problem: ItemProblem | null;
  message: string;
}

export class MissionEditor {
  private drone: string | null = null;
  /** The plan being edited, per vehicle: a vehicle with one is being planned. */
  private readonly drafts = new Map<string, MissionItem[]>();
  /** Each vehicle's mission as the server said (null: none). */
  private readonly missions = new Map<string, readonly MissionItem[] | null>();
  private readonly progress = new Map<string, MissionProgressData>();
  private refusal: Shown | null = null;
  /** A message being sent: the buttons wait for it. */
  private sending = false;
  /** Whether the selected vehicle was being planned at the last render, to tell the page when that changes. */
  private wasPlanning = false;
  private readonly list: MissionList;
  private readonly route: MissionRoute;
  private readonly panel = byId("mission-panel", HTMLElement);
  private readonly title = byId("mission-drone", HTMLElement);
  private readonly status = byId("mission-status", HTMLElement);
  private readonly message = byId("mission-message", HTMLElement);
  private readonly planButton = byId("mission-plan", HTMLButtonElement);
  private readonly planTools = byId("mission-plan-tools", HTMLElement);
  private readonly importInput = byId("mission-import", HTMLInputElement);
  private readonly exportButton = byId("mission-export", HTMLButtonElement);
  private readonly buttons: Record<MissionMessageType, HTMLButtonElement> = {
    mission: byId("mission-upload", HTMLButtonElement),
    mission_start: byId("mission-start", HTMLButtonElement),
    mission_pause: byId("mission-pause", HTMLButtonElement),
    mission_resume: byId("mission-resume", HTMLButtonElement),
    mission_clear: byId("mission-clear", HTMLButtonElement),
  };

  constructor(
    map: L.Map,
    private readonly actions: MissionActions,
  ) {
    this.route = new MissionRoute(map, (index, where) => this.edit((items) => withWaypointAt(items, index, where)));
    this.list = new MissionList(byId("mission-items", HTMLOListElement), {
      edit: (index, field: EditableField, value) => this.edit((items) => withField(items, index, field, value)),
      move: (index, step) => this.edit((items) => withMoved(items, index, step)),
      remove: (index) => this.edit((items) => without(items, index)),
    });
    this.planButton.addEventListener("click", () => this.startPlanning());
    byId("mission-discard", HTMLButtonElement).addEventListener("click", () => this.discard());
    for (const button of this.planTools.querySelectorAll<HTMLButtonElement>("button[data-add]")) {
      button.addEventListener("click", () => this.edit((items) => withAdded(items, button.dataset.add as AddableKind)));
    }
    for (const [type, button] of Object.entries(this.buttons) as Array<[MissionMessageType, HTMLButtonElement]>) {
      button.addEventListener("click", () => void this.send(type));
    }
    this.importInput.addEventListener("change", () => void this.importPlan());
    this.exportButton.addEventListener("click", () => this.exportPlan());
    this.render();
  }

  /** Whether the selected vehicle is being planned (a click on the map then adds a waypoint). */
  get planning(): boolean {
    return this.drone !== null && this.drafts.has(this.drone);
  }

  /** The selected vehicle changed. */
  select(drone: string | null): void {
    this.drone = drone;
    if (drone !== null && !this.drafts.has(drone)) {
      const stored = loadDraft(drone);
      if (stored !== null) this.drafts.set(drone, stored);
    }
    this.render();
  }

  /** A click on the map while planning: a waypoint there. Returns whether it was taken. */
  pick(where: LatLon): boolean {
    if (!this.planning) return false;
    this.edit((items) => withWaypoint(items, where).items);
    return true;
  }

  /** The server's `mission`: what a vehicle holds now (a new mission has no progress yet). */
  missionChanged(data: MissionData): void {
    this.missions.set(data.drone, data.items);
    this.progress.delete(data.drone);
    if (data.drone === this.drone) this.render();
  }

  /** The server's `mission_progress`. */
  progressed(data: MissionProgressData): void {
    this.progress.set(data.drone, data);
    if (data.drone === this.drone) this.render();
  }

  /** The lease, the link or the vehicle's position changed: buttons and route follow. */
  refresh(): void {
    this.render();
  }

  // ------------------------------------------------------------ planning

  private startPlanning(): void {
    const drone = this.drone;
    if (drone === null || this.drafts.has(drone)) return;
    this.drafts.set(drone, [...(this.missions.get(drone) ?? [])]);
    saveDraft(drone, this.drafts.get(drone)!);
    this.refusal = null;
    this.render();
  }

  private discard(): void {
    const drone = this.drone;
    if (drone === null) return;
    this.drafts.delete(drone);
    saveDraft(drone, null);
    this.refusal = null;
    this.render();
  }

  /** Applies an edit to the selected vehicle's plan, keeps it, and redraws; the last refusal no longer applies. */
  private edit(change: (items: readonly MissionItem[]) => MissionItem[]): void {
    const drone = this.drone;
    const items = drone === null ? undefined : this.drafts.get(drone);
    if (drone === null || items === undefined) return;
    const next = change(items);
    this.drafts.set(drone, next);
    saveDraft(drone, next);
    this.refusal = null;
    this.render();
  }

  // ------------------------------------------------------------ sending

  private async send(type: MissionMessageType): Promise<void> {
    const drone = this.drone;
    if (drone === null || this.sending) return;
    const items = type === "mission" ? this.drafts.get(drone) : undefined;
    if (type === "mission" && items === undefined) return;
    this.sending = true;
    this.refusal = null;
    this.render();
    try {
      const failed = await this.actions.send(drone, type, items);
      if (failed !== null) this.refusal = { drone, problem: null, message: failed };
      else if (type === "mission" && this.drafts.get(drone) === items) {
        // The vehicle holds the plan now: planning is over, and its `mission` message shows it.
        this.drafts.delete(drone);
        saveDraft(drone, null);
      }
    } catch (error) {
      const refusal = error as { message?: string; field?: string };
      const message = refusal.message ?? String(error);
      const at = type === "mission" ? itemField(refusal.field) : null;
      this.refusal = { drone, message, problem: at === null ? null : { ...at, message: message.replace(/^item \d+: /, "") } };
    } finally {
      this.sending = false;
      this.render();
      const item = this.refusal?.problem?.item;
      if (item !== undefined) this.list.reveal(item);
    }
  }

  // ------------------------------------------------------------ .plan files

  private async importPlan(): Promise<void> {
    const drone = this.drone;
    const file = this.importInput.files?.[0];
    this.importInput.value = "";
    if (drone === null || file === undefined) return;
    const read = planToMission(await file.text());
    if (!read.ok) {
      this.refusal = { drone, problem: null, message: `${file.name}: ${read.error.message}` };
      this.render();
      return;
    }
    this.drafts.set(drone, read.items);
    saveDraft(drone, read.items);
    this.refusal = null;
    this.render();
  }

  private exportPlan(): void {
    const drone = this.drone;
    const items = drone === null ? null : this.shownItems(drone);
    const vehicle = drone === null ? null : this.actions.vehicle(drone);
    if (drone === null || items === null || vehicle?.home == null) return;
    const text = missionToPlan(items, { ...vehicle.home, altitudeMsl: vehicle.homeAltitudeMsl ?? 0 });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = `${drone}.plan`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 0);
  }

  // ------------------------------------------------------------ drawing

  /** The plan while planning, else the vehicle's mission (null when it has none). */
  private shownItems(drone: string): readonly MissionItem[] | null {
    return this.drafts.get(drone) ?? this.missions.get(drone) ?? null;
  }

  private render(): void {
    const drone = this.drone;
    setText(this.title, drone ?? "");
    const planning = this.planning;
    this.panel.dataset.planning = String(planning);
    if (planning !== this.wasPlanning) {
      this.wasPlanning = planning;
      this.actions.planningChanged(planning);
    }
    this.planButton.hidden = planning;
    this.planTools.hidden = !planning;
    const items = drone === null ? null : this.shownItems(drone);
    const vehicle = drone === null ? null : this.actions.vehicle(drone);
    const checked: PlanProblems = planning && items !== null ? planProblems(items, { home: vehicle?.home ?? null, fence: this.actions.fence() }) : { whole: null, items: [] };
    const refusal = this.refusal?.drone === drone ? this.refusal : null;
    const problems = refusal?.problem ? [...checked.items.filter((each) => each.item !== refusal.problem!.item), refusal.problem] : checked.items;
    const progress = drone === null || planning ? [] : itemProgress(this.missions.get(drone) ?? null, this.progress.get(drone) ?? null);
    this.list.show({ items: items ?? [], editable: planning, progress, problems });
    this.route.show(items === null ? null : { items, home: vehicle?.home ?? null, editable: planning, progress, problems: new Set(problems.map((each) => each.item)) });
    this.showStatus(drone, planning, items, checked.whole);
    const shownMessage = refusal !== null && refusal.problem === null ? refusal.message : null;
    this.message.hidden = shownMessage === null;
    setText(this.message, shownMessage ?? "");
    this.renderButtons(drone, planning, items, checked);
  }

  private showStatus(drone: string | null, planning: boolean, items: readonly MissionItem[] | null, whole: string | null): void {
    const progress = drone === null ? undefined : this.progress.get(drone);
    const held = drone === null ? null : (this.missions.get(drone) ?? null);
    let state: string;
    let text: string;
    if (drone === null) [state, text] = ["none", "Select a drone to see or plan its mission."];
    else if (planning) {
      const count = items?.length ?? 0;
      const claim = this.actions.mayFly(drone) ? "" : ` Claim ${drone} to upload it.`;
      [state, text] = ["planning", `Planning ${count === 1 ? "1 item" : `${count} items`} for ${drone}, not uploaded yet. Click the map to add a waypoint; drag a marker to move it.${claim}${whole === null ? "" : ` ${capital(whole)}.`}`];
    } else if (held === null) [state, text] = ["none", `${drone} has no mission. Plan one, or import a .plan file.`];
    else if (progress === undefined) [state, text] = ["ready", `${drone} holds a mission of ${held.length} items, ready to start.`];
    else [state, text] = [progress.state, progressText(progress, held.length)];
    this.status.dataset.state = state;
    if (progress !== undefined && !planning) {
      this.status.dataset.current = String(progress.current);
      this.status.dataset.reached = progress.reached.join(" ");
    } else {
      delete this.status.dataset.current;
      delete this.status.dataset.reached;
    }
    setText(this.status, text);
  }

  private renderButtons(drone: string | null, planning: boolean, items: readonly MissionItem[] | null, checked: PlanProblems): void {
    const pilot = drone !== null && this.actions.mayFly(drone) && !this.sending;
    const held = drone === null ? null : (this.missions.get(drone) ?? null);
    const state = drone === null ? undefined : this.progress.get(drone)?.state;
    const valid = items !== null && checked.whole === null && checked.items.length === 0;
    this.buttons.mission.disabled = !(pilot && planning && valid);
    this.buttons.mission_start.disabled = !(pilot && !planning && held !== null && state !== "running" && state !== "paused");
    this.buttons.mission_pause.disabled = !(pilot && !planning && state === "running");
    this.buttons.mission_resume.disabled = !(pilot && !planning && state === "paused");
    this.buttons.mission_clear.disabled = !(pilot && !planning && held !== null);
    this.planButton.disabled = drone === null;
    this.importInput.disabled = drone === null;
    this.exportButton.disabled = !(drone !== null && items !== null && items.length > 0 && this.actions.vehicle(drone).home !== null);
  }
}

/** Each item's place in the mission the vehicle holds: reached, in progress, or not yet. */
function itemProgress(items: readonly MissionItem[] | null, progress: MissionProgressData | null): ItemProgress[] {
  if (items === null) return [];
  if (progress === null) return items.map(() => "pending");
  const reached = new Set(progress.reached);
  const active = progress.state === "running" || progress.state === "paused";
  return items.map((_, index) => (reached.has(index) ? "reached" : active && index === progress.current ? "current" : "pending"));
}

/** "Running: item 3 of 7 · 85 m to go · about 21 s left". */
function progressText(progress: MissionProgressData, count: number): string {
  const at = `item ${Math.min(progress.current + 1, count)} of ${count}`;
  const left = `${formatMetres(progress.distanceToGo)} to go · about ${Math.round(progress.etaSeconds)} s left`;
  const why = progress.reason === undefined ? "" : ` (${progress.reason})`;
  switch (progress.state) {
    case "running":
      return `Running: ${at} · ${left}`;
    case "paused":
      return `Paused at ${at}${why} · ${left}`;
    case "completed":
      return `Completed: all ${count} items flown.`;
    case "aborted":
      return `Aborted at ${at}${why}.`;
  }
}

function capital(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
