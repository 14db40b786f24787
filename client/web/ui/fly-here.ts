/**
 * Fly-here: the pilot clicks the map, a small form at that point asks for
 * the altitude, and "Fly here" confirms. Nothing is sent before the
 * confirmation; Cancel, Esc or a click elsewhere sends nothing.
 *
 * Owns the form in the map's popup. Whether the pilot may fly, and the
 * command itself (`gotogeo`), are the caller's.
 */
import * as L from "leaflet";
import type { MapPick } from "./map.ts";

/** Altitude offered when the drone is on the ground, metres above home. */
const defaultAltitudeMetres = 10;
/** Lowest and highest altitude the form accepts, metres above home (the server checks the geofence ceiling too). */
const minAltitudeMetres = 1;
const maxAltitudeMetres = 10_000;

export interface FlyHereActions {
  /** Whether the pilot may fly the selected drone now; when not, `denied` is called instead of opening the form. */
  mayFly(): boolean;
  denied(): void;
  /** The selected drone's id and altitude above home (metres), to name it and offer its altitude. */
  selected(): { drone: string; altitude: number } | null;
  /** The pilot confirmed: fly there at `altitude` metres above home. */
  fly(where: MapPick, altitude: number): void;
}

export class FlyHere {
  private readonly popup = L.popup({ closeOnClick: true, autoClose: true, className: "fly-here-popup", minWidth: 200 });

  constructor(
    private readonly map: L.Map,
    private readonly actions: FlyHereActions,
  ) {}

  /** A click on the map at `where`. */
  pick(where: MapPick, at: L.LatLng): void {
    const selected = this.actions.selected();
    if (selected === null) return;
    if (!this.actions.mayFly()) {
      this.actions.denied();
      return;
    }
    this.popup.setLatLng(at).setContent(this.form(selected.drone, selected.altitude, where)).openOn(this.map);
    this.popup.getElement()?.querySelector<HTMLInputElement>("#fly-here-altitude")?.focus();
  }

  private form(drone: string, altitude: number, where: MapPick): HTMLFormElement {
    const form = document.createElement("form");
    form.id = "fly-here";
    form.className = "fly-here";
    const title = document.createElement("p");
    title.className = "fly-here-title";
    title.textContent = `Fly ${drone} here?`;
    const place = document.createElement("p");
    place.className = "hint";
    place.textContent = `${where.lat.toFixed(6)}, ${where.lon.toFixed(6)}`;
    const field = document.createElement("label");
    field.className = "field";
    const caption = document.createElement("span");
    caption.textContent = "Altitude above home, m";
    const input = document.createElement("input");
    input.id = "fly-here-altitude";
    input.type = "number";
    input.min = String(minAltitudeMetres);
    input.max = String(maxAltitudeMetres);
    input.step = "0.5";
    input.required = true;
    input.value = String(altitude >= minAltitudeMetres ? Math.round(altitude * 2) / 2 : defaultAltitudeMetres);
    field.append(caption, input);
    const buttons = document.createElement("div");
    buttons.className = "dialog-buttons";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.id = "fly-here-cancel";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => this.map.closePopup(this.popup));
    const confirm = document.createElement("button");
    confirm.type = "submit";
    confirm.id = "fly-here-confirm";
    confirm.className = "primary";
    confirm.textContent = "Fly here";
    buttons.append(cancel, confirm);
    form.append(title, place, field, buttons);
    form.addEventListener("keydown", (event) => {
      // Keys typed here are the altitude, never flight shortcuts; Esc cancels.
      event.stopPropagation();
      if (event.key === "Escape") this.map.closePopup(this.popup);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const metres = input.valueAsNumber;
      if (!Number.isFinite(metres) || metres < minAltitudeMetres || metres > maxAltitudeMetres) {
        input.setCustomValidity(`Altitude must be from ${minAltitudeMetres} to ${maxAltitudeMetres} m above home: received ${input.value || "nothing"}`);
        input.reportValidity();
        return;
      }
      this.map.closePopup(this.popup);
      this.actions.fly(where, metres);
    });
    input.addEventListener("input", () => input.setCustomValidity(""));
    // A click in the form is not a click on the map (which would open a new one).
    L.DomEvent.disableClickPropagation(form);
    return form;
  }
}
