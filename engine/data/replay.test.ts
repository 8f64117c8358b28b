import { describe, expect, it } from "vitest";
import type { FeedEvent, Scheduler } from "./feed";
import { ReplayFeed, ticksOfBar } from "./replay";
import { emptyBars } from "./types";

/** A scheduler driven by hand: advance(ms) fires due timers in order. */
function manualScheduler() {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const s: Scheduler & { advance(ms: number): void; pending(): number } = {
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(h) {
      timers.delete(h as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
  return s;
}

function series(n: number) {
  const b = emptyBars(n);
  for (let i = 0; i < n; i++) {
    const o = 100 + i;
    const c = i % 2 === 0 ? o + 0.5 : o - 0.5;
    b.ts[i] = 60_000 * i;
    b.open[i] = o;
    b.high[i] = Math.max(o, c) + 1;
    b.low[i] = Math.min(o, c) - 1;
    b.close[i] = c;
    b.volume[i] = 4 * (i + 1);
  }
  b.length = n;
  return b;
}

describe("ReplayFeed", () => {
  it("yields exactly the stored series, in order, at max speed", () => {
    const bars = series(1234);
    const sched = manualScheduler();
    const feed = new ReplayFeed(bars, { symbol: "NQ", timeframe: "1m", stepMs: 60_000, speed: "max", scheduler: sched, burst: 100 });
    const got: FeedEvent[] = [];
    feed.subscribe((e) => got.push(e));
    feed.play();
    sched.advance(0);
    expect(feed.status().state).toBe("finished");
    expect(got).toHaveLength(1234);
    got.forEach((e, i) => {
      expect(e.type).toBe("bar");
      if (e.type === "bar") expect(e.bar).toEqual({ ts: bars.ts[i], open: bars.open[i], high: bars.high[i], low: bars.low[i], close: bars.close[i], volume: bars.volume[i] });
    });
  });

  it("paces bars at 1x and Nx, pauses, resumes and seeks", () => {
    const bars = series(10);
    const sched = manualScheduler();
    const feed = new ReplayFeed(bars, { symbol: "NQ", timeframe: "1m", stepMs: 60_000, speed: 1, scheduler: sched });
    const ts: number[] = [];
    feed.subscribe((e) => e.type === "bar" && ts.push(e.bar.ts));
    feed.play();
    sched.advance(59_999);
    expect(ts).toEqual([]);
    sched.advance(1);
    expect(ts).toEqual([0]);
    sched.advance(120_000);
    expect(ts).toEqual([0, 60_000, 120_000]);
    feed.pause();
    sched.advance(600_000);
    expect(ts).toHaveLength(3);
    expect(feed.status()).toMatchObject({ state: "paused", position: 3, currentTs: 120_000 });
    feed.setSpeed(60); // one bar per second
    feed.resume();
    sched.advance(2_000);
    expect(ts).toEqual([0, 60_000, 120_000, 180_000, 240_000]);
    feed.seek(420_000); // jump to bar 7
    sched.advance(1_000);
    expect(ts.at(-1)).toBe(420_000);
    feed.seek(60_000); // and back
    sched.advance(1_000);
    expect(ts.at(-1)).toBe(60_000);
    feed.stop();
    sched.advance(100_000);
    expect(feed.status().state).toBe("stopped");
    expect(sched.pending()).toBe(0);
  });

  it("derives four ticks per bar: O, L, H, C for up bars and O, H, L, C for down bars", () => {
    const bars = series(2);
    expect(ticksOfBar(bars, 0, 60_000).map((t) => t.price)).toEqual([100, 99, 101.5, 100.5]); // up bar
    expect(ticksOfBar(bars, 1, 60_000).map((t) => t.price)).toEqual([101, 102, 99.5, 100.5]); // down bar
    expect(ticksOfBar(bars, 1, 60_000).map((t) => t.ts)).toEqual([60_000, 75_000, 90_000, 105_000]);
    expect(ticksOfBar(bars, 1, 60_000).reduce((s, t) => s + t.size, 0)).toBe(8);
    const sched = manualScheduler();
    const feed = new ReplayFeed(bars, { symbol: "NQ", timeframe: "1m", stepMs: 60_000, speed: "max", ticks: true, scheduler: sched });
    const types: string[] = [];
    feed.subscribe((e) => types.push(e.type));
    feed.play();
    sched.advance(0);
    expect(types).toEqual(["tick", "tick", "tick", "tick", "bar", "tick", "tick", "tick", "tick", "bar"]);
  });

  it("rejects a nonsensical speed", () => {
    expect(() => new ReplayFeed(series(1), { symbol: "X", timeframe: "1m", stepMs: 60_000, speed: 0 })).toThrow(/speed/);
  });
});

describe("ReplayFeed state changes", () => {
  it("reports playing, paused and finished to state listeners", () => {
    const b = emptyBars(3);
    for (let i = 0; i < 3; i++) {
      b.ts[i] = i * 60_000;
      b.open[i] = b.high[i] = b.low[i] = b.close[i] = 100;
      b.volume[i] = 1;
    }
    b.length = 3;
    const timers: (() => void)[] = [];
    const feed = new ReplayFeed(b, { symbol: "X", timeframe: "1m", stepMs: 60_000, speed: "max", scheduler: { setTimeout: (fn) => timers.push(fn), clearTimeout: () => undefined } });
    const states: string[] = [];
    feed.onStateChange((s) => states.push(s));
    feed.play();
    feed.pause();
    feed.resume();
    while (timers.length) timers.shift()!();
    expect(states).toEqual(["playing", "paused", "playing", "finished"]);
  });
});
