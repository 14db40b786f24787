/**
 * A gamepad (Gamepad API) as a hold-to-fly stick: left stick forward/back
 * and left/right, right stick up/down and turn, polled every
 * `gamepadPollMs` while one is connected. Outside the dead zone the sticks
 * give a velocity, sent at most every `velocityEveryMs`; back at rest, one
 * stop. Owns the polling; sends nothing itself.
 */
import { holdRates, velocityEveryMs, type VelocityArgs } from "./hold-to-fly.ts";

/** How often the sticks are read while a gamepad is connected, milliseconds. */
export const gamepadPollMs = 50;
/** Stick travel ignored around the centre, as a fraction of full travel (sticks rarely rest at exactly 0). */
export const stickDeadZone = 0.15;

/** The standard mapping's axes: left stick x, y; right stick x, y (up is negative). */
const axes = { leftX: 0, leftY: 1, rightX: 2, rightY: 3 } as const;

/** A stick's value with the dead zone removed and the rest rescaled to 0..1. */
function shaped(value: number | undefined): number {
  const v = value ?? 0;
  if (Math.abs(v) < stickDeadZone) return 0;
  return (Math.sign(v) * (Math.abs(v) - stickDeadZone)) / (1 - stickDeadZone);
}

/** The velocity the sticks of one gamepad ask for; all zero at rest. */
export function velocityOfSticks(pad: Pick<Gamepad, "axes">): VelocityArgs {
  const { horizontalMetresPerSecond: h, verticalMetresPerSecond: v, yawDegreesPerSecond: yaw } = holdRates;
  const round = (value: number) => Math.round(value * 100) / 100 || 0;
  return [round(-shaped(pad.axes[axes.leftY]) * h), round(shaped(pad.axes[axes.leftX]) * h), round(-shaped(pad.axes[axes.rightY]) * v), round(shaped(pad.axes[axes.rightX]) * yaw)];
}

export class GamepadFlight {
  private poll: ReturnType<typeof setInterval> | null = null;
  private lastSentAt = 0;
  private active = false;

  /**
   * @param fly each velocity while a stick is out of its dead zone; null once they are back at rest.
   * @param enabled whether the pilot may fly now (the sticks do nothing otherwise).
   */
  constructor(
    private readonly fly: (velocity: VelocityArgs | null) => void,
    private readonly enabled: () => boolean,
    private readonly connectedChanged: (count: number) => void = () => {},
  ) {
    window.addEventListener("gamepadconnected", () => this.watch());
    window.addEventListener("gamepaddisconnected", () => this.watch());
  }

  private pads(): Gamepad[] {
    return [...(navigator.getGamepads?.() ?? [])].filter((pad): pad is Gamepad => pad !== null && pad.connected);
  }

  private watch(): void {
    const count = this.pads().length;
    this.connectedChanged(count);
    if (count > 0 && this.poll === null) this.poll = setInterval(() => this.read(), gamepadPollMs);
    if (count === 0 && this.poll !== null) {
      clearInterval(this.poll);
      this.poll = null;
      this.rest();
    }
  }

  private read(): void {
    const pad = this.pads()[0];
    const velocity = pad && this.enabled() ? velocityOfSticks(pad) : null;
    if (velocity === null || velocity.every((value) => value === 0)) return this.rest();
    const now = performance.now();
    if (this.active && now - this.lastSentAt < velocityEveryMs) return;
    this.active = true;
    this.lastSentAt = now;
    this.fly(velocity);
  }

  private rest(): void {
    if (!this.active) return;
    this.active = false;
    this.fly(null);
  }
}
