import { describe, expect, it } from "vitest";
import type { BarColumns } from "../data/types";
import { BacktestSession, runBacktest, StrategyError } from "./backtest";
import type { Strategy, StrategyContext } from "./ports";
import { SmaCross, BUILTIN_STRATEGIES, findStrategy, resolveParams, ParamError } from "./strategies/builtin";
import { compileBuilderSpec, BuilderSpecError, EXAMPLE_SPEC } from "./strategies/builder";
import type { CoreInstrument, OrderEvent } from "./types";

const UNIT: CoreInstrument = { symbol: "UNIT", tickSize: 0, pointValue: 1, currency: "USD", marginRate: 1 };

function walk(n: number, seed = 1, start = 100): BarColumns {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const b: BarColumns = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  let p = start;
  for (let i = 0; i < n; i++) {
    const o = Math.round(p * 100) / 100;
    const c = Math.max(1, Math.round((o + (rnd() - 0.5) * 0.6) * 100) / 100);
    b.ts[i] = Date.UTC(2024, 0, 1) + i * 60_000;
    b.open[i] = o;
    b.close[i] = c;
    b.high[i] = Math.max(o, c) + Math.round(rnd() * 20) / 100;
    b.low[i] = Math.min(o, c) - Math.round(rnd() * 20) / 100;
    b.volume[i] = 1 + Math.floor(rnd() * 100);
    p = c;
  }
  return b;
}

/** Python's math.fsum for a window: exact rational sum with BigInt, rounded once. */
function fsum(xs: number[]): number {
  // scale every double to an integer multiple of 2^-1074 would be huge; prices here have few bits,
  // so use a shared power-of-two scale from the smallest exponent.
  const parts = xs.map((x) => {
    const buf = new DataView(new ArrayBuffer(8));
    buf.setFloat64(0, x);
    const hi = buf.getUint32(0);
    const lo = buf.getUint32(4);
    const sign = hi >>> 31 ? -1n : 1n;
    const exp = (hi >>> 20) & 0x7ff;
    let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    if (exp !== 0) mant |= 1n << 52n;
    return { m: sign * mant, e: (exp === 0 ? 1 : exp) - 1075 };
  });
  const minE = Math.min(...parts.map((p) => p.e));
  let total = 0n;
  for (const p of parts) total += p.m << BigInt(p.e - minE);
  // round total * 2^minE to the nearest double: total fits easily; convert via string of exact value
  const neg = total < 0n;
  let t = neg ? -total : total;
  let e = minE;
  // normalise to 53 bits with round-half-even
  const bits = t.toString(2).length;
  if (bits > 53) {
    const shift = BigInt(bits - 53);
    const rem = t & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    t >>= shift;
    e += Number(shift);
    if (rem > half || (rem === half && (t & 1n) === 1n)) t += 1n;
  }
  const v = Number(t) * 2 ** e;
  return neg ? -v : v;
}

/**
 * An independent, deliberately plain re-statement of backtrader's SmaCross
 * run (SMA = fsum/period, CrossOver with the last non-zero difference,
 * market orders filled at the next open, a flat fee per fill, value =
 * cash + position x close), to check the engine's loop against.
 */
function referenceSmaCross(b: BarColumns, fast: number, slow: number, size: number, fee: number, cash: number): { fills: number; value: number } {
  const c = Array.from(b.close.subarray(0, b.length));
  let pos = 0;
  let fills = 0;
  let pending = 0; // +size buy, -pos sell, executed at the next open
  let nzd = NaN;
  for (let i = 0; i < b.length; i++) {
    if (pending !== 0) {
      const px = b.open[i]!;
      cash -= pending * px + fee;
      pos += pending;
      fills++;
      pending = 0;
    }
    if (i < slow - 1) continue;
    const f = fsum(c.slice(i - fast + 1, i + 1)) / fast;
    const s = fsum(c.slice(i - slow + 1, i + 1)) / slow;
    const d = f - s;
    const prev = nzd;
    nzd = Number.isNaN(prev) || d !== 0 ? d : prev;
    if (Number.isNaN(prev)) continue;
    const cross = prev < 0 && f > s ? 1 : prev > 0 && f < s ? -1 : 0;
    if (pos === 0) {
      if (cross > 0) pending = size;
    } else if (cross < 0) pending = -pos;
  }
  return { fills, value: cash + pos * b.close[b.length - 1]! };
}

describe("backtest loop", () => {
  it("matches an independent statement of backtrader's SmaCross exactly (fills, value to the cent)", () => {
    for (const seed of [1, 2, 3]) {
      const bars = walk(20_000, seed);
      const ref = referenceSmaCross(bars, 10, 30, 100, 1, 1_000_000);
      const r = runBacktest(bars, { instrument: UNIT, strategy: new SmaCross({ fast: 10, slow: 30, size: 100, mode: "long_only" }), cash: 1_000_000, barMs: 60_000, commission: { kind: "per_fill", amount: 1 } });
      expect(r.fillCount).toBe(ref.fills);
      expect(Math.round(r.finalValue * 100)).toBe(Math.round(ref.value * 100));
      expect(r.fillCount).toBeGreaterThan(100);
    }
  });

  it("never fills on the decision bar: a market order placed at bar t's close fills at bar t+1's open", () => {
    const bars = walk(50);
    const seen: { decided: number; filledTs: number; price: number }[] = [];
    let decided = -1;
    const s: Strategy = {
      name: "probe",
      onBar(ctx) {
        if (ctx.data.count === 10) {
          decided = ctx.data.time();
          ctx.exec.submit({ side: "buy", qty: 1, type: "market" });
        }
      },
      onOrderEvent(_ctx, ev: OrderEvent) {
        if (ev.type === "Filled") seen.push({ decided, filledTs: ev.fill.ts, price: ev.fill.price });
      },
    };
    runBacktest(bars, { instrument: UNIT, strategy: s, cash: 10_000, barMs: 60_000 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.filledTs).toBe(seen[0]!.decided + 60_000);
    expect(seen[0]!.price).toBe(bars.open[10]);
  });

  it("a strategy cannot read the future: data beyond the current bar is NaN", () => {
    const bars = walk(20);
    let ahead = 0;
    runBacktest(bars, {
      instrument: UNIT,
      strategy: {
        name: "peek",
        onBar(ctx: StrategyContext) {
          if (!Number.isNaN(ctx.data.close(-1))) ahead++;
          expect(ctx.data.close(0)).toBe(bars.close[ctx.data.count - 1]);
          expect(ctx.clock.now()).toBe(ctx.data.time() + 60_000);
        },
      },
      cash: 1000,
      barMs: 60_000,
    });
    expect(ahead).toBe(0);
  });

  it("equity is cash plus the position marked at each close", () => {
    const bars = walk(100);
    const r = runBacktest(bars, {
      instrument: UNIT,
      strategy: { name: "buy-once", onBar: (ctx) => void (ctx.data.count === 1 && ctx.exec.submit({ side: "buy", qty: 10, type: "market" })) },
      cash: 10_000,
      barMs: 60_000,
      commission: { kind: "per_fill", amount: 2 },
    });
    const entry = bars.open[1]!;
    expect(r.equity[0]).toBe(10_000);
    expect(r.equity[50]).toBeCloseTo(10_000 - 2 + 10 * (bars.close[50]! - entry), 9);
    expect(r.exposure[0]).toBe(0);
    expect(r.exposure[1]).toBe(1);
  });

  it("a strategy that throws fails with a StrategyError naming the hook and time", () => {
    const bars = walk(10);
    expect(() =>
      runBacktest(bars, { instrument: UNIT, strategy: { name: "boom", onBar: (ctx) => { if (ctx.data.count === 5) throw new Error("kaboom"); } }, cash: 1000, barMs: 60_000 }),
    ).toThrow(/boom failed in onBar at 2024-01-01T00:04:00.000Z: kaboom/);
    try {
      runBacktest(bars, { instrument: UNIT, strategy: { name: "boom2", onStart: () => { throw new Error("bad start"); } }, cash: 1000, barMs: 60_000 });
    } catch (e) {
      expect(e).toBeInstanceOf(StrategyError);
      expect((e as StrategyError).hook).toBe("onStart");
    }
  });

  it("runs in slices with the same result as in one go", () => {
    const bars = walk(5000, 9);
    const mk = () => new SmaCross({ fast: 5, slow: 20, size: 3, mode: "long_short" });
    const one = runBacktest(bars, { instrument: UNIT, strategy: mk(), cash: 100_000, barMs: 60_000, commission: { kind: "per_contract", amount: 0.5 } });
    const s = new BacktestSession(bars, { instrument: UNIT, strategy: mk(), cash: 100_000, barMs: 60_000, commission: { kind: "per_contract", amount: 0.5 } });
    let steps = 0;
    while (!s.step(333)) steps++;
    const sliced = s.result();
    expect(steps).toBeGreaterThan(10);
    expect(sliced.fillCount).toBe(one.fillCount);
    expect(sliced.finalValue).toBe(one.finalValue);
    expect(Array.from(sliced.equity)).toEqual(Array.from(one.equity));
  });
});

describe("built-in strategies", () => {
  it("every built-in runs on data and trades", () => {
    const bars = walk(20_000, 4);
    for (const def of BUILTIN_STRATEGIES) {
      const p = resolveParams(def, def.id === "orb" ? { open: "00:30", exit: "23:00", rangeMinutes: "30" } : {});
      const r = runBacktest(bars, { instrument: UNIT, strategy: def.create(p), cash: 100_000, barMs: 60_000, timeZone: "UTC" });
      expect(r.fillCount, def.id).toBeGreaterThan(0);
      expect(r.finalValue, def.id).toBeGreaterThan(0);
    }
  });

  it("refuses unknown strategies and parameters, fast >= slow, sizes that are not positive — naming the field", () => {
    expect(() => findStrategy("nope")).toThrow(/unknown strategy 'nope'/);
    const sma = findStrategy("sma-cross");
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as ParamError;
      }
      throw new Error("did not throw");
    };
    expect(err(() => resolveParams(sma, { fsat: "3" })).field).toBe("fsat");
    expect(err(() => resolveParams(sma, { fast: "30", slow: "10" })).message).toMatch(/fast \(30\) must be less than slow \(10\)/);
    expect(err(() => resolveParams(sma, { size: "0" })).field).toBe("size");
    expect(err(() => resolveParams(sma, { size: "-5" })).field).toBe("size");
    expect(err(() => resolveParams(sma, { fast: "ten" })).message).toMatch(/fast must be a number/);
    expect(err(() => resolveParams(sma, { fast: "2.5" })).message).toMatch(/whole number/);
    expect(resolveParams(sma, { fast: "5", slow: "8", size: "2" })).toMatchObject({ fast: 5, slow: 8, size: 2 });
  });
});

describe("builder strategies", () => {
  it("the example spec validates, compiles and trades", () => {
    const { create } = compileBuilderSpec(EXAMPLE_SPEC);
    const r = runBacktest(walk(20_000, 5), { instrument: { ...UNIT, tickSize: 0.01 }, strategy: create(), cash: 100_000, barMs: 60_000 });
    expect(r.fillCount).toBeGreaterThan(10);
    // every entry has a bracket: each round trip exits by stop or target
    expect(r.trades.length).toBeGreaterThan(5);
  });

  it("invalid specs give field-level errors", () => {
    try {
      compileBuilderSpec({ name: "", longEntry: { combine: "and", items: [{ left: { type: "indicator", indicator: { kind: "sma", period: 0 } }, op: "gt" }] }, sizing: { type: "risk_pct", percent: 1 } });
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(BuilderSpecError);
      const paths = (e as BuilderSpecError).issues.map((i) => i.path);
      expect(paths).toContain("name");
      expect(paths).toContain("longEntry.items.0.left.indicator");
      expect(paths).toContain("longEntry.items.0.right");
      expect(paths).toContain("sizing");
    }
  });

  it("a crosses_above rule fires exactly where the fast average crosses the slow one", () => {
    const bars = walk(3000, 6);
    const spec = {
      name: "x",
      longEntry: { combine: "and", items: [{ left: { type: "indicator", indicator: { kind: "sma", period: 5 } }, op: "crosses_above", right: { type: "indicator", indicator: { kind: "sma", period: 20 } } }] },
      longExit: { combine: "or", items: [{ left: { type: "indicator", indicator: { kind: "sma", period: 5 } }, op: "crosses_below", right: { type: "indicator", indicator: { kind: "sma", period: 20 } } }] },
    };
    const b = runBacktest(bars, { instrument: UNIT, strategy: compileBuilderSpec(spec).create(), cash: 100_000, barMs: 60_000 });
    const s = runBacktest(bars, { instrument: UNIT, strategy: new SmaCross({ fast: 5, slow: 20, size: 1, mode: "long_only" }), cash: 100_000, barMs: 60_000 });
    // same entries and exits unless the averages touch exactly (prices here never make them equal)
    expect(b.fillCount).toBe(s.fillCount);
    expect(b.finalValue).toBeCloseTo(s.finalValue, 9);
  });
});
