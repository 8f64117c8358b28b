import { describe, expect, it } from "vitest";
import type { BarColumns } from "../../data/types";
import { buildDataset } from "./dataset";
import { buildFeatures, defaultFeatureSet, type FeatureSetSpec, type FeatureSpec } from "./features";
import { assertNoLookAhead, checkFeatureSet, checkLookAhead, LookAheadError } from "./lookahead";
import { syntheticBars } from "./testdata";
import { VecTradingEnv } from "./trading-env";

/** The planted look-ahead: the log return from bar t to bar t+1, known only after the next bar. */
const peek: FeatureSpec = {
  kind: "custom",
  name: "next_return",
  compute: (b: BarColumns, out: Float64Array) => {
    const c = b.close;
    for (let t = 0; t < b.length; t++) out[t] = t + 1 < b.length ? Math.log(c[t + 1]! / c[t]!) : 0;
  },
};

/** A subtler one: a centred moving average (bars t-2 .. t+2) relative to the close. */
const centred: FeatureSpec = {
  kind: "custom",
  name: "centred_ma",
  compute: (b: BarColumns, out: Float64Array) => {
    const c = b.close;
    const n = b.length;
    for (let t = 2; t < n; t++) {
      let s = 0;
      let k = 0;
      for (let j = t - 2; j <= Math.min(n - 1, t + 2); j++, k++) s += c[j]!;
      out[t] = Math.log(c[t]! / (s / k));
    }
  },
};

/** Undefined on the last bar: reads bar t+1 and leaves NaN where there is none. */
const peekNaN: FeatureSpec = {
  kind: "custom",
  name: "next_open_gap",
  compute: (b: BarColumns, out: Float64Array) => {
    for (let t = 0; t < b.length; t++) out[t] = t + 1 < b.length ? Math.log(b.open[t + 1]! / b.close[t]!) : NaN;
  },
};

describe("look-ahead check", () => {
  const bars = syntheticBars(3000, { seed: 21 });

  it("a clean feature set (returns, volatility, core indicators, time of day) passes both tests", () => {
    const spec = defaultFeatureSet();
    spec.features.push({ kind: "logvolume", period: 20 }, { kind: "indicator", spec: { kind: "bollinger", period: 20, k: 2 }, output: "upper" }, { kind: "indicator", spec: { kind: "obv" } });
    const r = checkFeatureSet(bars, spec);
    expect(r.offences).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.cuts.length).toBe(12);
    for (const c of r.correlations) expect(Math.abs(c.next)).toBeLessThan(0.3);
    expect(() => assertNoLookAhead(r)).not.toThrow();
  });

  it("catches the planted feature that sees the next bar's return and names it", () => {
    const spec: FeatureSetSpec = { ...defaultFeatureSet(), features: [...defaultFeatureSet().features, peek] };
    const r = checkFeatureSet(bars, spec);
    expect(r.ok).toBe(false);
    expect(r.features).toEqual(["next_return"]);
    expect(r.offences.map((o) => o.test)).toContain("truncation");
    const corr = r.correlations.find((c) => c.feature === "next_return")!;
    expect(corr.next).toBeGreaterThan(0.9);
    // and a run refuses to report on it
    expect(() => assertNoLookAhead(r)).toThrow(LookAheadError);
    expect(() => assertNoLookAhead(r)).toThrow(/next_return/);
  });

  it("catches a subtle look-ahead (centred moving average) by truncation, not by correlation alone", () => {
    const spec: FeatureSetSpec = { features: [{ kind: "logret" }, centred], norm: { kind: "expanding", minCount: 20 } };
    const r = checkFeatureSet(bars, spec);
    expect(r.features).toEqual(["centred_ma"]);
    expect(r.offences[0]!.test).toBe("truncation");
  });

  it("catches a feature undefined on the last bar, and with fixed (training-span) normalisation", () => {
    const r = checkFeatureSet(bars, { features: [{ kind: "range" }, peekNaN], norm: { kind: "fixed", from: 0, to: 1000 } });
    expect(r.ok).toBe(false);
    expect(r.features).toEqual(["next_open_gap"]);
    const clean = checkFeatureSet(bars, { features: [{ kind: "range" }, { kind: "logret", lag: 3 }], norm: { kind: "fixed", from: 0, to: 1000 } });
    expect(clean.ok).toBe(true);
  });

  it("screens a bare matrix (no builder) by correlation", () => {
    const spec: FeatureSetSpec = { features: [{ kind: "range" }, peek], norm: { kind: "none" } };
    const r = checkLookAhead(bars, null, { full: buildFeatures(bars, spec) });
    expect(r.cuts).toEqual([]);
    expect(r.features).toEqual(["next_return"]);
    expect(r.offences[0]!.test).toBe("correlation");
  });

  it("the planted feature makes a policy look good in the environment: why the check matters", () => {
    const ds = buildDataset(bars, { instrument: { symbol: "X", tickSize: 0.25, pointValue: 1, currency: "USD" }, barMs: 60_000 }, { features: [peek], norm: { kind: "none" } });
    const env = new VecTradingEnv({ dataset: ds, numEnvs: 1, window: 1, span: { from: 0, to: ds.length }, episodeLength: 1000, actions: { mode: "target", contractSize: 1 }, cash: 100_000 });
    const obs = env.reset(1);
    const a = new Int32Array(1);
    let pnl = 0;
    for (let s = 0; s < 1000; s++) {
      // the "next return" at t is close[t+1]/close[t]: a target for t+1 earns open->close of t+1 mostly in its direction
      a[0] = obs[0]! > 0 ? 2 : 0;
      const r = env.step(a);
      pnl += r.rewards[0]!;
    }
    expect(pnl).toBeGreaterThan(0);
  });
});
