/**
 * Plays a stored series as a live feed: bars, and optionally ticks derived
 * from each bar, at 1x (one bar per bar length of wall time), Nx, or as fast
 * as possible; with pause, resume, seek and speed changes.
 *
 * Tick rule (documented in README): each bar becomes four trade ticks at its
 * start + 0, 1/4, 2/4 and 3/4 of the bar length: open, then low then high for
 * an up bar (close >= open) or high then low for a down bar, then close; each
 * tick carries a quarter of the bar's volume. The bar itself is emitted after
 * its ticks, at its close, as a live feed would.
 */
import type { FeedEvent, FeedListener, FeedState, FeedStatus, MarketDataFeed, Scheduler } from "./feed";
import { realScheduler } from "./feed";
import { type BarColumns, barAt } from "./types";

export interface ReplayOptions {
  symbol: string;
  timeframe: string;
  stepMs: number;
  speed?: number | "max";
  ticks?: boolean;
  scheduler?: Scheduler;
  /** In "max" mode, events emitted before yielding to the event loop. */
  burst?: number;
}

export function ticksOfBar(bars: BarColumns, i: number, stepMs: number): { ts: number; price: number; size: number }[] {
  const t = bars.ts[i]!;
  const o = bars.open[i]!;
  const h = bars.high[i]!;
  const l = bars.low[i]!;
  const c = bars.close[i]!;
  const q = bars.volume[i]! / 4;
  const mid = c >= o ? [l, h] : [h, l];
  return [
    { ts: t, price: o, size: q },
    { ts: t + stepMs / 4, price: mid[0]!, size: q },
    { ts: t + stepMs / 2, price: mid[1]!, size: q },
    { ts: t + (3 * stepMs) / 4, price: c, size: q },
  ];
}

export class ReplayFeed implements MarketDataFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly stateListeners = new Set<(state: FeedState) => void>();
  private state: FeedState = "idle";
  private position = 0;
  private currentTs: number | null = null;
  private speed: number | "max";
  private timer: unknown = null;
  private readonly scheduler: Scheduler;
  private readonly burst: number;

  constructor(
    private readonly bars: BarColumns,
    private readonly opts: ReplayOptions,
  ) {
    this.speed = opts.speed ?? 1;
    this.scheduler = opts.scheduler ?? realScheduler;
    this.burst = opts.burst ?? 500;
    if (this.speed !== "max" && !(this.speed > 0)) throw new RangeError("speed must be a positive number or \"max\"");
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called on every state change (playing, paused, finished, stopped). */
  onStateChange(fn: (state: FeedState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  private setState(state: FeedState): void {
    if (this.state === state) return;
    this.state = state;
    for (const fn of this.stateListeners) fn(state);
  }

  status(): FeedStatus {
    return { state: this.state, symbol: this.opts.symbol, timeframe: this.opts.timeframe, position: this.position, total: this.bars.length, currentTs: this.currentTs, speed: this.speed };
  }

  play(): void {
    if (this.state === "playing") return;
    if (this.position >= this.bars.length) {
      this.setState("finished");
      return;
    }
    this.setState("playing");
    this.schedule();
  }

  pause(): void {
    if (this.state !== "playing") return;
    this.setState("paused");
    this.cancel();
  }

  resume(): void {
    if (this.state === "paused" || this.state === "idle") this.play();
  }

  stop(): void {
    this.cancel();
    this.setState("stopped");
  }

  setSpeed(speed: number | "max"): void {
    if (speed !== "max" && !(speed > 0)) throw new RangeError("speed must be a positive number or \"max\"");
    this.speed = speed;
    if (this.state === "playing") {
      this.cancel();
      this.schedule();
    }
  }

  /** Moves to the first bar starting at or after ts; keeps playing if it was. */
  seek(ts: number): void {
    let lo = 0;
    let hi = this.bars.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.bars.ts[mid]! < ts) lo = mid + 1;
      else hi = mid;
    }
    this.position = lo;
    this.currentTs = lo > 0 ? this.bars.ts[lo - 1]! : null;
    if (this.state === "finished" && lo < this.bars.length) this.setState("paused");
    if (this.state === "playing") {
      this.cancel();
      this.schedule();
    }
  }

  private cancel(): void {
    if (this.timer !== null) this.scheduler.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const delay = this.speed === "max" ? 0 : this.opts.stepMs / this.speed;
    this.timer = this.scheduler.setTimeout(() => this.tick(), delay);
  }

  private emit(e: FeedEvent): void {
    for (const l of this.listeners) l(e);
  }

  private emitBar(i: number): void {
    if (this.opts.ticks) {
      for (const t of ticksOfBar(this.bars, i, this.opts.stepMs)) this.emit({ type: "tick", symbol: this.opts.symbol, ts: t.ts, price: t.price, size: t.size, derived: true });
    }
    this.emit({ type: "bar", symbol: this.opts.symbol, timeframe: this.opts.timeframe, bar: barAt(this.bars, i) });
    this.currentTs = this.bars.ts[i]!;
  }

  private tick(): void {
    this.timer = null;
    if (this.state !== "playing") return;
    const n = this.speed === "max" ? this.burst : 1;
    for (let k = 0; k < n && this.position < this.bars.length; k++) {
      this.emitBar(this.position++);
      if (this.state !== "playing") return; // a listener paused or stopped us
    }
    if (this.position >= this.bars.length) {
      this.setState("finished");
      return;
    }
    this.schedule();
  }
}
