/**
 * Hold-to-fly: while a move or turn key (or pad button, or a gamepad
 * stick) is held past `holdAfterMs`, the drone flies continuously: a
 * `velocity` command every `velocityEveryMs`, well inside the server's 1 s
 * dead-man hold, from every control held at once; letting go stops it at
 * once (`hover`), and if the page stops sending (a crash, a lost tab) the
 * drone stops by itself within a second. A short press stays a step.
 *
 * Owns the set of held actions and the streaming timers. Sends nothing
 * itself: `fly` gets each velocity, and null when the pilot let go.
 */
import type { FlightAction } from "./keymap.ts";

/** Rates while a control is held: horizontal and vertical m/s, yaw degrees per second. */
export const holdRates = { horizontalMetresPerSecond: 3, verticalMetresPerSecond: 1, yawDegreesPerSecond: 45 } as const;
/** A key or button held this long flies continuously instead of stepping, milliseconds. */
export const holdAfterMs = 300;
/** How often the velocity is sent while held, milliseconds: four times inside the server's 1 s hold. */
export const velocityEveryMs = 250;

/** The actions hold-to-fly knows: moves and turns (takeoff, land, home and emergency never repeat). */
export const holdableActions: ReadonlySet<FlightAction> = new Set(["forward", "back", "left", "right", "up", "down", "cw", "ccw"]);

/** A velocity command's arguments: forward, right, up (m/s), yaw rate (deg/s, clockwise). */
export type VelocityArgs = [forward: number, right: number, up: number, yawRate: number];

/** The velocity of the controls held together: opposite ones cancel, each axis at its hold rate. */
export function velocityOf(held: ReadonlySet<FlightAction>): VelocityArgs {
  const axis = (plus: FlightAction, minus: FlightAction) => (held.has(plus) ? 1 : 0) - (held.has(minus) ? 1 : 0);
  const { horizontalMetresPerSecond: h, verticalMetresPerSecond: v, yawDegreesPerSecond: yaw } = holdRates;
  let forward = axis("forward", "back");
  let right = axis("right", "left");
  // Diagonals fly at the horizontal rate too, not √2 times it.
  const length = Math.hypot(forward, right);
  if (length > 1) {
    forward /= length;
    right /= length;
  }
  return [forward * h, right * h, axis("up", "down") * v, axis("cw", "ccw") * yaw];
}

export class HoldToFly {
  private readonly held = new Set<FlightAction>();
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private streamTimer: ReturnType<typeof setInterval> | null = null;
  /** Set once the current press turned into continuous flight: the button's click that follows is not a step. */
  private flewSincePress = false;

  /** @param fly each velocity while held; null once everything was let go after flying. */
  constructor(private readonly fly: (velocity: VelocityArgs | null) => void) {}

  /** Whether the drone is being flown continuously now. */
  get flying(): boolean {
    return this.streamTimer !== null;
  }

  press(action: FlightAction): void {
    if (!holdableActions.has(action) || this.held.has(action)) return;
    if (this.held.size === 0) this.flewSincePress = false;
    this.held.add(action);
    if (this.flying) return this.send();
    this.holdTimer ??= setTimeout(() => {
      this.holdTimer = null;
      if (this.held.size === 0) return;
      this.flewSincePress = true;
      this.send();
      this.streamTimer = setInterval(() => this.send(), velocityEveryMs);
    }, holdAfterMs);
  }

  /** Lets go of one control; when none is held any more, continuous flight stops. Returns whether this press flew continuously. */
  release(action: FlightAction): boolean {
    if (!this.held.delete(action)) return false;
    if (this.held.size > 0) {
      if (this.flying) this.send();
      return this.flewSincePress;
    }
    this.stop(true);
    return this.flewSincePress;
  }

  /** Lets go of everything (focus lost, controls disabled); `say` whether to send the stop. */
  releaseAll(say = true): void {
    this.held.clear();
    this.stop(say);
  }

  /** Whether the click that ends this press should be ignored: the press flew continuously rather than stepped. */
  consumeClick(): boolean {
    const flew = this.flewSincePress;
    this.flewSincePress = false;
    return flew;
  }

  private send(): void {
    this.fly(velocityOf(this.held));
  }

  private stop(say: boolean): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    const wasFlying = this.flying;
    if (this.streamTimer !== null) clearInterval(this.streamTimer);
    this.streamTimer = null;
    if (wasFlying && say) this.fly(null);
  }
}
