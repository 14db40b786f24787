/**
 * A canvas that stays crisp: its backing store follows the element's CSS size
 * times devicePixelRatio, and drawing happens at most once per animation
 * frame, in CSS pixels.
 *
 * Owns sizing, the redraw schedule and theme-change repaints; what to draw is
 * the caller's `draw` function.
 */
import { onThemeChange } from "./theme.ts";

export type DrawFunction = (context: CanvasRenderingContext2D, widthCss: number, heightCss: number) => void;

export class CrispCanvas {
  private readonly context: CanvasRenderingContext2D;
  private frame = 0;
  private widthCss = 0;
  private heightCss = 0;
  private pixelRatio = 1;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly draw: DrawFunction,
  ) {
    const context = canvas.getContext("2d");
    if (!context) throw new Error(`dashboard: no 2D context for #${canvas.id}`);
    this.context = context;
    new ResizeObserver(() => this.invalidate()).observe(canvas);
    onThemeChange(() => this.invalidate());
    this.watchPixelRatio();
    this.invalidate();
  }

  /** Schedules a redraw on the next animation frame (several calls in one frame draw once). */
  invalidate(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint();
    });
  }

  private paint(): void {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    if (rect.width === 0 || rect.height === 0) return;
    if (rect.width !== this.widthCss || rect.height !== this.heightCss || ratio !== this.pixelRatio) {
      this.widthCss = rect.width;
      this.heightCss = rect.height;
      this.pixelRatio = ratio;
      this.canvas.width = Math.round(rect.width * ratio);
      this.canvas.height = Math.round(rect.height * ratio);
    }
    this.context.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.context.clearRect(0, 0, this.widthCss, this.heightCss);
    this.draw(this.context, this.widthCss, this.heightCss);
  }

  /** devicePixelRatio changes when the window moves to another screen or the page zooms. */
  private watchPixelRatio(): void {
    const query = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    query.addEventListener(
      "change",
      () => {
        this.invalidate();
        this.watchPixelRatio();
      },
      { once: true },
    );
  }
}
