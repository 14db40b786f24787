/**
 * The mission's side list: one row per item, in order, numbered as the
 * map's markers are. While planning, each row edits its fields (altitude
 * above home, latitude and longitude, optional speed and hold), moves up or
 * down, or is deleted (heading too, optional), and shows the problem found with it (the page's own
 * check or the server's refusal) next to the field at fault. A mission the
 * vehicle holds is listed read-only, each row marked reached, current or
 * pending.
 *
 * Owns #mission-items. It changes nothing itself: every edit is handed to
 * `ListActions`. Rows carry `data-item`, `data-type`, `data-progress` and
 * `data-problem`; inputs carry `data-field`.
 */
import type { MissionItem } from "../../../protocol/index.ts";
import { fieldsOf, type EditableField } from "./mission-draft.ts";
import type { ItemProblem } from "./mission-check.ts";
import type { ItemProgress } from "./mission-route.ts";

/** What a row's inputs and buttons ask for. */
export interface ListActions {
  /** A field was changed: `value` undefined when it was emptied. */
  edit(index: number, field: EditableField, value: number | undefined): void;
  move(index: number, step: -1 | 1): void;
  remove(index: number): void;
}

/** What the list shows. */
export interface ListView {
  items: readonly MissionItem[];
  editable: boolean;
  progress: readonly ItemProgress[];
  problems: readonly ItemProblem[];
}

/** Each item kind as the list names it. */
const kindNames: Record<MissionItem["type"], string> = { takeoff: "Take off", waypoint: "Waypoint", land: "Land", rth: "Return home" };

/** Each field's label, unit and input step, in the order a row shows them. */
const fieldLabels: Record<EditableField, { label: string; unit: string; step: string }> = {
  lat: { label: "Lat", unit: "°", step: "0.000001" },
  lon: { label: "Lon", unit: "°", step: "0.000001" },
  altitude: { label: "Alt", unit: "m", step: "0.5" },
  speed: { label: "Speed", unit: "m/s", step: "0.5" },
  holdSeconds: { label: "Hold", unit: "s", step: "1" },
  heading: { label: "Heading", unit: "°", step: "1" },
};
const fieldOrder: readonly EditableField[] = ["altitude", "speed", "holdSeconds", "heading", "lat", "lon"];

export class MissionList {
  /** What was drawn last: an unchanged view is not redrawn (a redraw would cut into typing). */
  private drawn = "";

  constructor(
    private readonly list: HTMLOListElement,
    private readonly actions: ListActions,
  ) {}

  /** Scrolls item `index` into view (a refusal names it: the pilot sees where). */
  reveal(index: number): void {
    this.list.querySelector(`li[data-item="${index}"]`)?.scrollIntoView({ block: "nearest" });
  }

  /** Draws `view`; the input that had focus keeps it across the redraw. */
  show(view: ListView): void {
    const key = JSON.stringify(view);
    if (key === this.drawn) return;
    this.drawn = key;
    const focused = document.activeElement instanceof HTMLElement && this.list.contains(document.activeElement) ? document.activeElement : null;
    const refocus = focused === null ? null : { item: focused.closest("li")?.dataset.item, field: focused.dataset.field, action: focused.dataset.action };
    this.list.replaceChildren(...view.items.map((item, index) => this.row(item, index, view)));
    this.list.dataset.editable = String(view.editable);
    if (refocus?.item === undefined) return;
    const selector = refocus.field ? `[data-field="${refocus.field}"]` : refocus.action ? `[data-action="${refocus.action}"]` : null;
    if (selector) this.list.querySelector<HTMLElement>(`li[data-item="${refocus.item}"] ${selector}`)?.focus();
  }

  private row(item: MissionItem, index: number, view: ListView): HTMLLIElement {
    const row = document.createElement("li");
    row.className = "mission-item";
    row.dataset.item = String(index);
    row.dataset.type = item.type;
    row.dataset.progress = view.progress[index] ?? "planned";
    const problem = view.problems.find((each) => each.item === index) ?? null;
    if (problem !== null) row.dataset.problem = problem.field ?? "item";
    const head = document.createElement("div");
    head.className = "mission-item-head";
    const name = document.createElement("span");
    name.className = "mission-item-name";
    name.textContent = `${index + 1}. ${kindNames[item.type]}`;
    head.append(name);
    if (view.editable) head.append(this.buttons(index, view.items.length));
    else head.append(summary(item));
    row.append(head);
    if (view.editable) {
      const fields = this.fields(item, index, problem);
      if (fields.childElementCount > 0) row.append(fields);
    }
    if (problem !== null) {
      const text = document.createElement("p");
      text.className = "mission-problem";
      text.setAttribute("role", "alert");
      text.textContent = problem.message;
      row.append(text);
    }
    return row;
  }

  private buttons(index: number, count: number): HTMLElement {
    const group = document.createElement("span");
    group.className = "mission-item-buttons";
    const button = (action: string, text: string, label: string, disabled: boolean, run: () => void) => {
      const element = document.createElement("button");
      element.type = "button";
      element.className = "small";
      element.dataset.action = action;
      element.textContent = text;
      element.setAttribute("aria-label", `${label} item ${index + 1}`);
      element.disabled = disabled;
      element.addEventListener("click", run);
      return element;
    };
    group.append(
      button("up", "↑", "Move up", index === 0, () => this.actions.move(index, -1)),
      button("down", "↓", "Move down", index === count - 1, () => this.actions.move(index, 1)),
      button("delete", "✕", "Delete", false, () => this.actions.remove(index)),
    );
    return group;
  }

  private fields(item: MissionItem, index: number, problem: ItemProblem | null): HTMLElement {
    const fields = document.createElement("div");
    fields.className = "mission-fields";
    const values = fieldsOf(item);
    for (const field of fieldOrder) {
      if (!(field in values)) continue;
      const { label, unit, step } = fieldLabels[field];
      const wrapper = document.createElement("label");
      wrapper.className = `mission-field mission-field-${field}`;
      const caption = document.createElement("span");
      caption.textContent = `${label} (${unit})`;
      const input = document.createElement("input");
      input.type = "number";
      input.step = step;
      input.dataset.field = field;
      input.setAttribute("aria-label", `Item ${index + 1} ${label.toLowerCase()}, ${unit}`);
      const value = values[field];
      input.value = value === undefined || !Number.isFinite(value) ? "" : String(field === "lat" || field === "lon" ? Number(value.toFixed(7)) : value);
      if (field === "speed" || field === "holdSeconds" || field === "heading") input.placeholder = "–";
      if (problem?.field === field) input.setAttribute("aria-invalid", "true");
      input.addEventListener("change", () => this.actions.edit(index, field, input.value === "" ? undefined : input.valueAsNumber));
      // Keys typed here are numbers, never flight shortcuts.
      input.addEventListener("keydown", (event) => event.stopPropagation());
      wrapper.append(caption, input);
      fields.append(wrapper);
    }
    return fields;
  }
}

/** A read-only item in a few words: `15 m · 5 m/s · hold 3 s`. */
function summary(item: MissionItem): HTMLElement {
  const text = document.createElement("span");
  text.className = "mission-item-summary muted";
  const parts: string[] = [];
  if (item.type === "takeoff" || item.type === "waypoint") parts.push(`${item.altitude} m`);
  if (item.type === "waypoint") {
    if (item.speed !== undefined) parts.push(`${item.speed} m/s`);
    if (item.holdSeconds !== undefined) parts.push(`hold ${item.holdSeconds} s`);
    if (item.heading !== undefined) parts.push(`facing ${item.heading}°`);
  }
  text.textContent = parts.join(" · ");
  return text;
}
