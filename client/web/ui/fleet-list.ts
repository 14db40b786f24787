/**
 * The fleet list beside the map: every vehicle with its state, battery,
 * link and pilot; click (or Enter on) a row to select that vehicle.
 *
 * Owns #fleet-list only. Rows are refreshed a few times a second at most,
 * and only the cells whose text changed are written: a hundred vehicles at
 * 10 Hz cost a handful of DOM writes, not a thousand.
 */
import type { TelemetryData } from "../../../protocol/index.ts";
import { formatPercent, formatState, shortSession } from "./format.ts";
import { batteryLevel } from "./readouts.ts";

/** Shortest time between two refreshes of the list, milliseconds: four a second reads as live. */
const refreshEveryMs = 250;

/** One row's cells, kept to write only what changed. */
interface FleetRow {
  row: HTMLTableRowElement;
  state: HTMLTableCellElement;
  battery: HTMLTableCellElement;
  link: HTMLTableCellElement;
  pilot: HTMLTableCellElement;
}

export class FleetList {
  private readonly rows = new Map<string, FleetRow>();
  private scheduled = false;
  private lastRefresh = 0;

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly select: (drone: string) => void,
    /** The latest frame of a vehicle, and who "you" are (this page's session). */
    private readonly latest: (drone: string) => TelemetryData | null,
    private readonly session: () => string | null,
  ) {}

  /** The vehicles the server announced, in its order, and the one selected. */
  setDrones(ids: readonly string[], selected: string | null): void {
    this.body.replaceChildren();
    this.rows.clear();
    for (const id of ids) {
      const row = document.createElement("tr");
      row.dataset.drone = id;
      row.tabIndex = 0;
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = id;
      const cells = [document.createElement("td"), document.createElement("td"), document.createElement("td"), document.createElement("td")] as const;
      for (const cell of cells) cell.textContent = "–";
      row.append(name, ...cells);
      row.addEventListener("click", () => this.select(id));
      row.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        event.stopPropagation(); // Space here selects; it is not the hover key
        this.select(id);
      });
      this.rows.set(id, { row, state: cells[0], battery: cells[1], link: cells[2], pilot: cells[3] });
      this.body.append(row);
    }
    this.setSelected(selected);
    this.refresh();
  }

  setSelected(selected: string | null): void {
    for (const [id, { row }] of this.rows) row.setAttribute("aria-selected", String(id === selected));
  }

  /** A frame arrived: the list refreshes soon (at most every `refreshEveryMs`). */
  invalidate(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = Math.max(0, this.lastRefresh + refreshEveryMs - performance.now());
    setTimeout(() => {
      this.scheduled = false;
      this.refresh();
    }, wait);
  }

  private refresh(): void {
    this.lastRefresh = performance.now();
    const you = this.session();
    for (const [id, cells] of this.rows) {
      const frame = this.latest(id);
      if (frame === null) continue;
      write(cells.state, formatState(frame.state));
      write(cells.battery, formatPercent(frame.battery));
      setData(cells.battery, "level", batteryLevel(frame.battery));
      write(cells.link, frame.link.status === "lost" ? "lost" : "up");
      setData(cells.link, "status", frame.link.status);
      write(cells.pilot, frame.pilot === null ? "nobody" : frame.pilot === you ? "you" : (frame.pilotName ?? frame.pilotUser ?? shortSession(frame.pilot)));
    }
  }
}

function write(cell: HTMLElement, text: string): void {
  if (cell.textContent !== text) cell.textContent = text;
}

function setData(cell: HTMLElement, key: string, value: string): void {
  if (cell.dataset[key] !== value) cell.dataset[key] = value;
}
