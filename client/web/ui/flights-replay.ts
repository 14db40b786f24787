/**
 * The Flights panel's replay controls: Play (start or join the replay of the
 * flight open in the panel), Pause/Resume, the speed, and a slider to seek,
 * with the position shown as the replay plays.
 *
 * Owns #replay-* only. It sends replay requests through the SDK and follows
 * what the server says (`replay` messages, and each replayed frame's
 * recorded time); the replay vehicle itself is drawn by the map and listed
 * by the fleet list like any vehicle (`watch` hands it to the dashboard).
 */
import { replayVehicleId, type RecordedFlight, type ReplayStateData, type TelemetryData } from "../../../protocol/index.ts";
import { SkyportError, type SkyportClient } from "../../sdk/index.ts";
import { byId, setText } from "./dom.ts";
import { formatDuration } from "./format.ts";

/** The speeds offered, times real time (the protocol takes 0.5 to 16). */
export const replaySpeeds = [0.5, 1, 2, 4, 8, 16] as const;

export interface ReplayHooks {
  /** The replay vehicle is playing: watch it (list it, select it). */
  watch(drone: string): void;
  /** Something went wrong, in one sentence. */
  problem(message: string): void;
}

export class ReplayControls {
  private readonly play = byId("replay-play", HTMLButtonElement);
  private readonly pause = byId("replay-pause", HTMLButtonElement);
  private readonly speed = byId("replay-speed", HTMLSelectElement);
  private readonly seek = byId("replay-seek", HTMLInputElement);
  private readonly position = byId("replay-position", HTMLElement);
  private flight: RecordedFlight | null = null;
  /** The replay's state as last heard, when the open flight's replay plays. */
  private state: ReplayStateData | null = null;
  /** While the slider is held, the position it shows is the user's. */
  private seeking = false;

  constructor(
    private readonly client: SkyportClient,
    private readonly hooks: ReplayHooks,
  ) {
    this.speed.replaceChildren(...replaySpeeds.map((speed) => new Option(`${speed}x`, String(speed), speed === 1, speed === 1)));
    this.play.addEventListener("click", () => void this.start());
    this.pause.addEventListener("click", () => void this.control({ paused: !(this.state?.paused ?? false) }));
    this.speed.addEventListener("change", () => {
      if (this.state !== null) void this.control({ speed: Number(this.speed.value) });
    });
    this.seek.addEventListener("input", () => {
      this.seeking = true;
      this.showPosition(Number(this.seek.value));
    });
    this.seek.addEventListener("change", () => {
      this.seeking = false;
      void this.control({ positionMs: Math.round(Number(this.seek.value)) });
    });
    client.on("replay", (state) => {
      if (this.flight !== null && state.flight === this.flight.id) this.follow(state);
    });
    client.on("vehicle", (change) => {
      if (change.change === "removed" && this.state?.drone === change.drone) this.stopped();
    });
    client.on("telemetry", (frame) => this.frame(frame));
  }

  /** The flight open in the panel (null: none); its replay's controls start idle unless it already plays. */
  open(flight: RecordedFlight | null): void {
    this.flight = flight;
    this.state = null;
    this.seek.max = String(flight === null ? 0 : Math.max(0, (flight.endedAt ?? flight.startedAt) - flight.startedAt));
    this.seek.value = "0";
    this.render();
  }

  private async start(): Promise<void> {
    const flight = this.flight;
    if (flight === null) return;
    try {
      const state = await this.client.replayStart(flight.id, { speed: Number(this.speed.value) });
      await this.client.subscribe(state.drone);
      if (this.flight?.id !== flight.id) return;
      this.follow(state);
      this.hooks.watch(state.drone);
    } catch (error) {
      this.hooks.problem(`cannot replay ${flight.id}: ${describe(error)}`);
    }
  }

  private async control(change: { speed?: number; paused?: boolean; positionMs?: number }): Promise<void> {
    const drone = this.state?.drone ?? (this.flight === null ? null : replayVehicleId(this.flight.id));
    if (drone === null) return;
    try {
      this.follow(await this.client.replayControl(drone, change));
    } catch (error) {
      this.hooks.problem(`replay ${drone}: ${describe(error)}`);
    }
  }

  private follow(state: ReplayStateData): void {
    this.state = state;
    this.seek.max = String(state.durationMs);
    if (!this.seeking) this.seek.value = String(state.positionMs);
    this.speed.value = String(state.speed);
    this.render();
  }

  /** A replayed frame of the open flight: the slider follows its recorded time. */
  private frame(frame: TelemetryData): void {
    const { state, flight } = this;
    if (state === null || flight === null || frame.drone !== state.drone || frame.recorded === undefined || this.seeking) return;
    const at = frame.recorded.time - flight.startedAt;
    this.seek.value = String(at);
    this.showPosition(at);
  }

  private stopped(): void {
    this.state = null;
    this.render();
  }

  private render(): void {
    const { state, flight } = this;
    const playing = state !== null;
    this.play.disabled = flight === null || playing;
    this.pause.disabled = !playing || state.ended;
    setText(this.pause, state?.paused ? "Resume" : "Pause");
    this.seek.disabled = !playing;
    const root = this.play.closest<HTMLElement>("[data-replay]") ?? this.play.parentElement!;
    root.dataset.replay = !playing ? "idle" : state.ended ? "ended" : state.paused ? "paused" : "playing";
    this.showPosition(Number(this.seek.value));
  }

  private showPosition(positionMs: number): void {
    setText(this.position, `${formatDuration(positionMs)} of ${formatDuration(Number(this.seek.max))}`);
  }
}

function describe(error: unknown): string {
  if (error instanceof SkyportError) return `error ${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
