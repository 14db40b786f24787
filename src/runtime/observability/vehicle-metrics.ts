/**
 * Per-vehicle gauges: flight state, battery, link and pilot presence, one
 * series per vehicle (and per state for the state gauge), so the label sets
 * are bounded by the fleet given at start and the closed set of flight states.
 *
 * Owns these families' names, types and help. It reads the fleet's view once
 * per scrape through `read` and never touches a vehicle itself.
 */
import type { FlightState } from "../../core/drone/types.ts";
import type { MetricFamily, MetricsRegistry } from "./registry.ts";

/** One vehicle as a scrape sees it. */
export interface VehicleGauges {
  id: string;
  /** `simulated`, `mavlink`, …: a label on the link gauge, so dashboards can split by kind. */
  kind: string;
  state: FlightState;
  /** Battery, percent. */
  battery: number;
  linkUp: boolean;
  /** A pilot holds the vehicle's lease. */
  pilotPresent: boolean;
}

/**
 * Every flight state, so that `skyport_vehicle_state` has one series per
 * state (1 for the current one): PromQL can then sum and graph them without
 * series appearing and vanishing. The `Record` makes a new state a compile
 * error here until it is listed.
 */
const flightStateLabels: Record<FlightState, true> = {
  landed: true,
  taking_off: true,
  hovering: true,
  moving: true,
  landing: true,
  returning: true,
  emergency: true,
};
const flightStates = Object.keys(flightStateLabels) as FlightState[];

/** Registers the per-vehicle families; `read` is called once per scrape. */
export function registerVehicleMetrics(registry: MetricsRegistry, read: () => readonly VehicleGauges[]): void {
  registry.register(() => vehicleFamilies(read()));
}

/** The per-vehicle families for one reading, in the order /metrics lists them. */
export function vehicleFamilies(vehicles: readonly VehicleGauges[]): MetricFamily[] {
  return [
    {
      name: "skyport_vehicle_state",
      type: "gauge",
      help: "1 for the vehicle's current flight state, 0 for every other state.",
      samples: vehicles.flatMap((vehicle) => flightStates.map((state) => ({ labels: { vehicle: vehicle.id, state }, value: vehicle.state === state ? 1 : 0 }))),
    },
    {
      name: "skyport_vehicle_battery_percent",
      type: "gauge",
      help: "Battery remaining, percent, as last computed or reported.",
      samples: vehicles.map((vehicle) => ({ labels: { vehicle: vehicle.id }, value: vehicle.battery })),
    },
    {
      name: "skyport_vehicle_link_up",
      type: "gauge",
      help: "1 while skyport hears the vehicle (always 1 for a simulated one), 0 while its link is down.",
      samples: vehicles.map((vehicle) => ({ labels: { vehicle: vehicle.id, kind: vehicle.kind }, value: vehicle.linkUp ? 1 : 0 })),
    },
    {
      name: "skyport_vehicle_pilot_present",
      type: "gauge",
      help: "1 while a pilot holds the vehicle's lease.",
      samples: vehicles.map((vehicle) => ({ labels: { vehicle: vehicle.id }, value: vehicle.pilotPresent ? 1 : 0 })),
    },
  ];
}
