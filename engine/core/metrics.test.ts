import { describe, expect, it } from "vitest";
import {
  computeMetrics,
  defaultPeriodsPerYear,
  drawdownSeries,
  monthlyReturns,
  DAY_MS,
  HOUR_MS,
  YEAR_MS,
  type Metrics,
  type MetricsInput,
  type MetricsTrade,
} from "./metrics";

const T0 = Date.UTC(2024, 0, 1); // Monday 2024-01-01 00:00 UTC

/** Regular bars every barMs from `start`. */
function regularTs(n: number, barMs: number, start = T0): Float64Array {
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = start + i * barMs;
  return ts;
}

function input(p: Partial<Omit<MetricsInput, "equity">> & { equity: number[] | Float64Array }): MetricsInput {
  const equity = p.equity instanceof Float64Array ? p.equity : Float64Array.from(p.equity);
  const n = equity.length;
  const barMs = p.barMs ?? DAY_MS;
  return {
    initialCash: p.initialCash ?? 100,
    ts: p.ts ?? regularTs(n, barMs),
    equity,
    exposure: p.exposure ?? new Uint8Array(n),
    barMs,
    periodsPerYear: p.periodsPerYear,
    calendar: p.calendar,
    riskFreeRate: p.riskFreeRate,
    trades: p.trades ?? [],
  };
}

function trade(pnl: number, exitTs: number, commission = 1): MetricsTrade {
  return { pnl, entryTs: exitTs - HOUR_MS, exitTs, commission };
}

/** Every number in the result is finite (nulls allowed) and the object survives JSON. */
function expectJsonSafe(m: Metrics): void {
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === "number") expect(Number.isFinite(v), k).toBe(true);
    else expect(v === null || typeof v === "boolean", k).toBe(true);
  }
  expect(JSON.parse(JSON.stringify(m))).toEqual(m);
}

describe("computeMetrics: hand-computed 6-bar curve (1d bars, 24x7)", () => {
  // initialCash 100, then closes:
  //   P0 110 (+10%), P1 121 (+10%), P2 108.9 (-10%), P3 119.79 (+10%), P4 131.769 (+10%), P5 105.4152 (-20%)
  // returns r = [.1, .1, -.1, .1, .1, -.2], n = 6 (the first is relative to initialCash)
  // sum r = 0.1 -> mean = 1/60 = 0.0166667
  // deviations x60: 5, 5, -7, 5, 5, -13 -> squares 25+25+49+25+25+169 = 318 -> sum (r-mean)^2 = 318/3600
  // sample var = 318/3600/5 = 318/18000 -> std = 0.1329160
  // periodsPerYear = 365 (24x7, 1d)
  // volatility = std * sqrt(365) = 2.5393
  // sharpe = (1/60)/std*sqrt(365) = 2.3956
  // downside: (.1^2 + .2^2)/6 = 0.05/6 = 1/120 -> DD = 0.0912871; sortino = (1/60)/DD*sqrt(365) = 3.4881
  // totalReturn = 105.4152/100 - 1 = 0.054152
  // years = 5 days / 365.25 days; CAGR = 1.054152^(365.25/5) - 1 = 1.054152^73.05 - 1 ~ 46.1
  // drawdown: peak 121 (P1) -> P2 108.9: 10%, 12.1; P3 119.79: 1%; P4 131.769 recovers (3 bars, 3 days after P1);
  //   peak 131.769 -> P5 105.4152: 20%, 26.3538, not recovered (1 bar, 1 day).
  //   max % = 0.2, its currency depth 26.3538; longest underwater = 3 days / 3 bars
  // calmar = CAGR / 0.2
  // exposure [1,1,0,1,1,0] -> 4/6
  const eq = [110, 121, 108.9, 119.79, 131.769, 105.4152];
  const m = computeMetrics(input({ equity: eq, exposure: Uint8Array.from([1, 1, 0, 1, 1, 0]) }));
  const std = Math.sqrt(318 / 18000);
  const cagr = Math.pow(1.054152, 365.25 / 5) - 1;

  it("bookkeeping fields", () => {
    expect(m.bars).toBe(6);
    expect(m.startTs).toBe(T0);
    expect(m.endTs).toBe(T0 + 5 * DAY_MS);
    expect(m.periodsPerYear).toBe(365);
    expect(m.initialCash).toBe(100);
    expect(m.finalEquity).toBe(105.4152);
    expect(m.years).toBeCloseTo(5 / 365.25, 10);
  });

  it("return and risk ratios", () => {
    expect(m.totalReturn).toBeCloseTo(0.054152, 10);
    expect(std).toBeCloseTo(0.132916, 6);
    expect(m.volatility).toBeCloseTo(std * Math.sqrt(365), 10);
    expect(m.sharpe).toBeCloseTo((1 / 60 / std) * Math.sqrt(365), 10);
    expect(m.sharpe).toBeCloseTo(2.3956, 4);
    expect(m.sortino).toBeCloseTo((1 / 60 / Math.sqrt(1 / 120)) * Math.sqrt(365), 10);
    expect(m.sortino).toBeCloseTo(3.4881, 4);
    expect(m.annualizedReturn).toBeCloseTo(cagr, 10);
    expect(m.calmar).toBeCloseTo(cagr / 0.2, 10);
  });

  it("drawdown depth and duration", () => {
    expect(m.maxDrawdownPct).toBeCloseTo(0.2, 10);
    expect(m.maxDrawdown).toBeCloseTo(26.3538, 10);
    expect(m.maxDrawdownDuration).toBe(3 * DAY_MS);
    expect(m.maxDrawdownDurationBars).toBe(3);
  });

  it("exposure, and no trades gives zeroed trade stats", () => {
    expect(m.exposure).toBeCloseTo(4 / 6, 10);
    expect(m).toMatchObject({
      trades: 0, winningTrades: 0, losingTrades: 0, winRate: 0, grossProfit: 0, grossLoss: 0,
      profitFactor: 0, profitFactorInfinite: false, payoffRatio: 0, payoffRatioInfinite: false,
      expectancy: 0, avgWin: 0, avgLoss: 0, longestLosingStreak: 0, longestWinningStreak: 0, totalCommission: 0,
    });
    expectJsonSafe(m);
  });

  it("drawdownSeries seeded with initialCash peaks at maxDrawdownPct", () => {
    const dd = drawdownSeries(Float64Array.from(eq), 100);
    // [0, 0, 12.1/121, 1.21/121, 0, 26.3538/131.769]
    const want = [0, 0, 0.1, 0.01, 0, 0.2];
    want.forEach((w, i) => expect(dd[i]).toBeCloseTo(w, 10));
    expect(Math.max(...dd)).toBe(m.maxDrawdownPct);
  });

  it("product of monthly returns from initialCash equals 1 + totalReturn", () => {
    const mr = monthlyReturns(regularTs(6, DAY_MS), Float64Array.from(eq), 100);
    expect(mr).toHaveLength(1);
    expect(mr[0]!.ret).toBeCloseTo(m.totalReturn, 12);
  });
});

describe("computeMetrics: risk-free rate and periodsPerYear override", () => {
  // Same returns as above, ppy overridden to 252, rf = 5 % a year.
  // rfBar = 1.05^(1/252) - 1 = 0.000193630
  // sharpe = (1/60 - rfBar) / std * sqrt(252); sortino = (1/60 - rfBar) / sqrt(1/120) * sqrt(252)
  const eq = [110, 121, 108.9, 119.79, 131.769, 105.4152];
  const m = computeMetrics(input({ equity: eq, periodsPerYear: 252, riskFreeRate: 0.05 }));
  const rfBar = Math.pow(1.05, 1 / 252) - 1;
  it("subtracts the geometric per-bar risk-free rate", () => {
    expect(rfBar).toBeCloseTo(0.00019363, 8);
    expect(m.periodsPerYear).toBe(252);
    expect(m.volatility).toBeCloseTo(Math.sqrt(318 / 18000) * Math.sqrt(252), 10);
    expect(m.sharpe).toBeCloseTo(((1 / 60 - rfBar) / Math.sqrt(318 / 18000)) * Math.sqrt(252), 10);
    expect(m.sortino).toBeCloseTo(((1 / 60 - rfBar) / Math.sqrt(1 / 120)) * Math.sqrt(252), 10);
    // CAGR does not depend on ppy: calendar time only.
    expect(m.annualizedReturn).toBeCloseTo(Math.pow(1.054152, 365.25 / 5) - 1, 10);
  });
});

describe("computeMetrics: edge cases", () => {
  it("flat equity: every ratio is 0", () => {
    const m = computeMetrics(input({ equity: [100, 100, 100, 100, 100] }));
    expect(m).toMatchObject({
      totalReturn: 0, annualizedReturn: 0, volatility: 0, sharpe: 0, sortino: 0, calmar: 0,
      maxDrawdownPct: 0, maxDrawdown: 0, maxDrawdownDuration: 0, maxDrawdownDurationBars: 0, exposure: 0,
    });
    expectJsonSafe(m);
  });

  it("constant growth: zero deviation gives sharpe/sortino 0, no drawdown gives calmar 0", () => {
    // P[i] = 100 * 1.01^(i+1): every return is 0.01 up to rounding noise (~1e-16).
    const eq = Array.from({ length: 10 }, (_, i) => 100 * Math.pow(1.01, i + 1));
    const m = computeMetrics(input({ equity: eq }));
    expect(m.volatility).toBe(0);
    expect(m.sharpe).toBe(0);
    expect(m.sortino).toBe(0);
    expect(m.maxDrawdownPct).toBe(0);
    expect(m.calmar).toBe(0);
    // 9 days: CAGR = 1.01^(10 * 365.25 / 9) - 1
    expect(m.annualizedReturn).toBeCloseTo(Math.pow(1.01, (10 * 365.25) / 9) - 1, 8);
    expectJsonSafe(m);
  });

  it("a single bar: CAGR and all deviation ratios are 0", () => {
    // r = [0.05]; one return -> no sample std; zero elapsed time -> CAGR 0
    const up = computeMetrics(input({ equity: [105], exposure: Uint8Array.from([1]) }));
    expect(up).toMatchObject({
      bars: 1, years: 0, annualizedReturn: 0, volatility: 0, sharpe: 0, sortino: 0, calmar: 0,
      maxDrawdownPct: 0, maxDrawdown: 0, maxDrawdownDuration: 0, maxDrawdownDurationBars: 0, exposure: 1,
    });
    expect(up.totalReturn).toBeCloseTo(0.05, 10);
    expect(up.startTs).toBe(up.endTs);
    // A loss on the only bar is a drawdown from initialCash: 5 %, 5.00, one bar (1 day from ts[0] to the close).
    const down = computeMetrics(input({ equity: [95] }));
    expect(down.maxDrawdownPct).toBeCloseTo(0.05, 10);
    expect(down.maxDrawdown).toBeCloseTo(5, 10);
    expect(down.maxDrawdownDuration).toBe(DAY_MS);
    expect(down.maxDrawdownDurationBars).toBe(1);
    expect(down.sortino).toBe(0);
    expect(down.calmar).toBe(0); // CAGR 0 / 0.05
    expectJsonSafe(up);
    expectJsonSafe(down);
  });

  it("a drawdown that never recovers lasts until the last close", () => {
    // 1h bars. initialCash 100; P = [100, 90, 95, 80, 85]
    // P0 = 100 >= 100 is the peak (index 0, close at ts0 + 1h); nothing after reaches 100.
    // depths: 10 %, 5 %, 20 %, 15 % -> max 0.2, 20.00
    // duration: from P0's close to P4's close = 4 h, 4 bars
    const m = computeMetrics(input({ equity: [100, 90, 95, 80, 85], barMs: HOUR_MS }));
    expect(m.maxDrawdownPct).toBeCloseTo(0.2, 10);
    expect(m.maxDrawdown).toBeCloseTo(20, 10);
    expect(m.maxDrawdownDuration).toBe(4 * HOUR_MS);
    expect(m.maxDrawdownDurationBars).toBe(4);
    expect(drawdownSeries(Float64Array.from([100, 90, 95, 80, 85]))[4]).toBeCloseTo(0.15, 10);
  });

  it("a drawdown from initialCash starts at ts[0]", () => {
    // initialCash 100; P = [90, 95, 99]: never back to 100.
    // peak = the initialCash point at ts0; last close = ts2 + 1h = ts0 + 3h -> 3 h, 3 bars; depth 10 %.
    const m = computeMetrics(input({ equity: [90, 95, 99], barMs: HOUR_MS }));
    expect(m.maxDrawdownPct).toBeCloseTo(0.1, 10);
    expect(m.maxDrawdown).toBeCloseTo(10, 10);
    expect(m.maxDrawdownDuration).toBe(3 * HOUR_MS);
    expect(m.maxDrawdownDurationBars).toBe(3);
    // Without a seed the series starts its peak at 90.
    expect(Array.from(drawdownSeries(Float64Array.from([90, 95, 99])))).toEqual([0, 0, 0]);
  });

  it("durations are calendar time: a weekend inside a drawdown counts", () => {
    // cme-globex 1d bars Thu 2024-01-04, Fri 01-05, Mon 01-08, Tue 01-09; initialCash 100
    // P = [100, 95, 97, 100]: peak P0 (Thu), recovered at P3 (Tue) -> 5 days, 3 bars
    const ts = Float64Array.from([4, 5, 8, 9].map((d) => Date.UTC(2024, 0, d)));
    const m = computeMetrics(input({ ts, equity: [100, 95, 97, 100], calendar: "cme-globex" }));
    expect(m.periodsPerYear).toBe(252);
    expect(m.maxDrawdownDuration).toBe(5 * DAY_MS);
    expect(m.maxDrawdownDurationBars).toBe(3);
    expect(m.maxDrawdownPct).toBeCloseTo(0.05, 10);
    // totalReturn 0 over 5 days -> CAGR 0
    expect(m.annualizedReturn).toBe(0);
  });

  it("the deepest drawdown in % is reported with its own currency depth", () => {
    // initialCash 100; P = [100, 80, 1000, 850]
    // episode 1: 20 %, 20.00; episode 2: 15 %, 150.00 (larger in currency, smaller in %)
    const m = computeMetrics(input({ equity: [100, 80, 1000, 850] }));
    expect(m.maxDrawdownPct).toBeCloseTo(0.2, 10);
    expect(m.maxDrawdown).toBeCloseTo(20, 10);
    // longest underwater: episode 1 from P0 to P2 = 2 days, episode 2 from P2 to the end = 1 day
    expect(m.maxDrawdownDuration).toBe(2 * DAY_MS);
    expect(m.maxDrawdownDurationBars).toBe(2);
  });

  it("a ruined account: returns from a base <= 0 are 0, CAGR is -1, drawdown can exceed 100 %", () => {
    // initialCash 100; P = [100, -20, 0]; r = [0, -1.2, 0] (base -20 <= 0 -> 0)
    // mean = -0.4; deviations .4, -.8, .4 -> squares .16+.64+.16 = .96 -> var .48
    // downside = sqrt(1.44 / 3) = sqrt(.48)
    // drawdown vs peak 100: 120 % at P1
    const m = computeMetrics(input({ equity: [100, -20, 0] }));
    expect(m.totalReturn).toBe(-1);
    expect(m.annualizedReturn).toBe(-1);
    expect(m.maxDrawdownPct).toBeCloseTo(1.2, 10);
    expect(m.maxDrawdown).toBeCloseTo(120, 10);
    expect(m.volatility).toBeCloseTo(Math.sqrt(0.48) * Math.sqrt(365), 10);
    expect(m.sharpe).toBeCloseTo((-0.4 / Math.sqrt(0.48)) * Math.sqrt(365), 10);
    expect(m.sortino).toBeCloseTo((-0.4 / Math.sqrt(0.48)) * Math.sqrt(365), 10);
    expect(m.calmar).toBeCloseTo(-1 / 1.2, 10);
    expectJsonSafe(m);
  });

  it("an annualised return that overflows a double is null (and so is calmar)", () => {
    // 1m bars: doubling in one minute -> 2^(YEAR_MS / 60_000) = 2^525960 = Infinity
    const m = computeMetrics(input({ equity: [100, 200], barMs: 60_000 }));
    expect(m.totalReturn).toBe(1);
    expect(m.years).toBeCloseTo(60_000 / YEAR_MS, 15);
    expect(m.annualizedReturn).toBeNull();
    expect(m.calmar).toBeNull();
    expectJsonSafe(m);
  });

  it("rejects malformed input", () => {
    expect(() => computeMetrics(input({ equity: [] }))).toThrow(RangeError);
    expect(() => computeMetrics(input({ equity: [1, 2], ts: Float64Array.from([T0]) }))).toThrow(/same length/);
    expect(() => computeMetrics(input({ equity: [1, 2], ts: Float64Array.from([T0, T0]) }))).toThrow(/ascending/);
    expect(() => computeMetrics(input({ equity: [1, NaN] }))).toThrow(/not finite/);
    expect(() => computeMetrics(input({ equity: [1], initialCash: 0 }))).toThrow(/initialCash/);
    expect(() => computeMetrics(input({ equity: [1], periodsPerYear: 0 }))).toThrow(/periodsPerYear/);
    expect(() => computeMetrics(input({ equity: [1], trades: [trade(NaN, T0)] }))).toThrow(/trade 0/);
  });
});

describe("computeMetrics: trade statistics", () => {
  it("mixed trades, in exit order", () => {
    // pnl: 10, -5, -3, 0, 20, -2, -4, -6 (commission 1 each)
    // wins 10, 20 -> 2, grossProfit 30, avgWin 15
    // losses 5, 3, 2, 4, 6 -> 5, grossLoss 20, avgLoss -4
    // breakeven: 1 (counts as a trade, not as a win)
    // winRate 2/8 = .25; expectancy (30-20)/8 = 1.25; profitFactor 30/20 = 1.5; payoff 15/4 = 3.75
    // streaks: (-5,-3) = 2, broken by 0; (-2,-4,-6) = 3 -> 3; longest win run 1
    const pnls = [10, -5, -3, 0, 20, -2, -4, -6];
    const trades = pnls.map((p, i) => trade(p, T0 + i * HOUR_MS));
    const m = computeMetrics(input({ equity: [100, 110], trades }));
    expect(m).toMatchObject({
      trades: 8, winningTrades: 2, losingTrades: 5, longestLosingStreak: 3, longestWinningStreak: 1,
      profitFactorInfinite: false, payoffRatioInfinite: false,
    });
    expect(m.winRate).toBeCloseTo(0.25, 10);
    expect(m.grossProfit).toBeCloseTo(30, 10);
    expect(m.grossLoss).toBeCloseTo(20, 10);
    expect(m.avgWin).toBeCloseTo(15, 10);
    expect(m.avgLoss).toBeCloseTo(-4, 10);
    expect(m.expectancy).toBeCloseTo(1.25, 10);
    expect(m.profitFactor).toBeCloseTo(1.5, 10);
    expect(m.payoffRatio).toBeCloseTo(3.75, 10);
    expect(m.totalCommission).toBeCloseTo(8, 10);

    // Same trades listed out of order: streaks follow exitTs, not array order.
    const shuffled = [trades[5]!, trades[0]!, trades[7]!, trades[3]!, trades[1]!, trades[6]!, trades[4]!, trades[2]!];
    const m2 = computeMetrics(input({ equity: [100, 110], trades: shuffled }));
    expect(m2).toEqual(m);
  });

  it("only winning trades: profit factor and payoff are null with the infinite flag", () => {
    // pnl 5, 15: grossProfit 20, grossLoss 0 -> PF = +inf -> null; avgWin 10, avgLoss 0 -> payoff +inf -> null
    const m = computeMetrics(input({ equity: [100, 120], trades: [trade(5, T0), trade(15, T0 + 1)] }));
    expect(m).toMatchObject({
      trades: 2, winningTrades: 2, losingTrades: 0, winRate: 1, grossLoss: 0, avgLoss: 0,
      profitFactor: null, profitFactorInfinite: true, payoffRatio: null, payoffRatioInfinite: true,
      longestLosingStreak: 0, longestWinningStreak: 2,
    });
    expect(m.grossProfit).toBeCloseTo(20, 10);
    expect(m.avgWin).toBeCloseTo(10, 10);
    expect(m.expectancy).toBeCloseTo(10, 10);
    expectJsonSafe(m);
  });

  it("only losing trades: profit factor and payoff are 0", () => {
    // pnl -5, -15: grossLoss 20, avgLoss -10, expectancy -10, streak 2
    const m = computeMetrics(input({ equity: [100, 80], trades: [trade(-5, T0, 0.5), trade(-15, T0 + 1, 0.25)] }));
    expect(m).toMatchObject({
      trades: 2, winningTrades: 0, losingTrades: 2, winRate: 0, grossProfit: 0, avgWin: 0,
      profitFactor: 0, profitFactorInfinite: false, payoffRatio: 0, payoffRatioInfinite: false,
      longestLosingStreak: 2, longestWinningStreak: 0,
    });
    expect(m.grossLoss).toBeCloseTo(20, 10);
    expect(m.avgLoss).toBeCloseTo(-10, 10);
    expect(m.expectancy).toBeCloseTo(-10, 10);
    expect(m.totalCommission).toBeCloseTo(0.75, 10);
    expectJsonSafe(m);
  });

  it("only breakeven trades: everything 0, not infinite", () => {
    const m = computeMetrics(input({ equity: [100, 100], trades: [trade(0, T0), trade(0, T0 + 1)] }));
    expect(m).toMatchObject({
      trades: 2, winRate: 0, profitFactor: 0, profitFactorInfinite: false, payoffRatio: 0,
      payoffRatioInfinite: false, expectancy: 0, longestLosingStreak: 0, longestWinningStreak: 0,
    });
  });

  it("sums are compensated: a million commissions of 0.1 add up to 100000 exactly", () => {
    // A naive left-to-right sum gives 100000.00000133288.
    const trades = Array.from({ length: 1_000_000 }, (_, i) => trade(0.1, T0 + i, 0.1));
    let naive = 0;
    for (const t of trades) naive += t.commission;
    expect(naive).not.toBe(100000);
    const m = computeMetrics(input({ equity: [100, 100], trades }));
    expect(m.totalCommission).toBe(100000);
    expect(m.grossProfit).toBe(100000);
  });
});

describe("computeMetrics against a brute-force reference", () => {
  it("agrees on a 2000-bar random walk with gaps", () => {
    let seed = 12345; // mulberry32
    const rnd = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const n = 2000;
    const ts = new Float64Array(n);
    const equity = new Float64Array(n);
    const exposure = new Uint8Array(n);
    let t = T0;
    let e = 1000;
    for (let i = 0; i < n; i++) {
      t += HOUR_MS * (rnd() < 0.05 ? 3 : 1);
      e *= 1 + (rnd() - 0.49) * 0.02;
      ts[i] = t;
      equity[i] = e;
      exposure[i] = rnd() < 0.6 ? 1 : 0;
    }
    const m = computeMetrics({ initialCash: 1000, ts, equity, exposure, barMs: HOUR_MS, calendar: "us-equity", riskFreeRate: 0.03, trades: [] });

    // Reference: plain arrays, obvious formulas.
    const pts = [1000, ...equity];
    const times = [ts[0]!, ...Array.from(ts, (x) => x + HOUR_MS)];
    const r = pts.slice(1).map((p, i) => p / pts[i]! - 1);
    const mean = r.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const dd = Math.sqrt(r.reduce((a, b) => a + Math.min(b, 0) ** 2, 0) / n);
    const ppy = (252 * 6.5) / 1;
    const rfBar = Math.pow(1.03, 1 / ppy) - 1;
    let maxPct = 0;
    let maxCur = 0;
    let maxDur = 0;
    let maxBars = 0;
    for (let i = 0; i < pts.length; i++) {
      // i is a peak if no earlier point is strictly higher and it is at least as high as all earlier ones
      if (pts.slice(0, i).some((p) => p > pts[i]!)) continue;
      let j = i + 1;
      while (j < pts.length && pts[j]! < pts[i]!) {
        const pct = (pts[i]! - pts[j]!) / pts[i]!;
        if (pct > maxPct) {
          maxPct = pct;
          maxCur = pts[i]! - pts[j]!;
        }
        j++;
      }
      if (j === i + 1) continue; // not underwater after this peak
      const end = j < pts.length ? j : pts.length - 1;
      if (times[end]! - times[i]! > maxDur) {
        maxDur = times[end]! - times[i]!;
        maxBars = end - i;
      }
    }
    expect(m.periodsPerYear).toBe(ppy);
    expect(m.volatility).toBeCloseTo(sd * Math.sqrt(ppy), 10);
    expect(m.sharpe).toBeCloseTo(((mean - rfBar) / sd) * Math.sqrt(ppy), 10);
    expect(m.sortino).toBeCloseTo(((mean - rfBar) / dd) * Math.sqrt(ppy), 10);
    expect(m.maxDrawdownPct).toBeCloseTo(maxPct, 12);
    expect(m.maxDrawdown).toBeCloseTo(maxCur, 9);
    expect(m.maxDrawdownDuration).toBe(maxDur);
    expect(m.maxDrawdownDurationBars).toBe(maxBars);
    expect(maxDur).toBeGreaterThan(0);
    expect(m.exposure).toBeCloseTo(exposure.reduce((a, b) => a + b, 0) / n, 12);
    const years = (ts[n - 1]! - ts[0]!) / YEAR_MS;
    expect(m.annualizedReturn).toBeCloseTo(Math.pow(equity[n - 1]! / 1000, 1 / years) - 1, 10);
    expect(Math.max(...drawdownSeries(equity, 1000))).toBe(m.maxDrawdownPct);
  });
});

describe("defaultPeriodsPerYear (annualisation table)", () => {
  it.each([
    // [barMs, calendar, expected, hand computation]
    [60_000, "24x7", 525_600], // 365 * 1440
    [60_000, "cme-globex", 347_760], // 252 * 23 * 60
    [60_000, "us-equity", 98_280], // 252 * 390
    [300_000, "us-equity", 19_656], // 252 * 78
    [900_000, "cme-globex", 23_184], // 252 * 92
    [HOUR_MS, "24x7", 8_760], // 365 * 24
    [HOUR_MS, "cme-globex", 5_796], // 252 * 23
    [HOUR_MS, "us-equity", 1_638], // 252 * 6.5
    [4 * HOUR_MS, "24x7", 2_190], // 365 * 6
    [4 * HOUR_MS, "cme-globex", 1_449], // 252 * 23 / 4
    [4 * HOUR_MS, "us-equity", 409.5], // 252 * 6.5 / 4
    [DAY_MS, "24x7", 365],
    [DAY_MS, "cme-globex", 252],
    [DAY_MS, "us-equity", 252],
    [7 * DAY_MS, "24x7", 365 / 7],
  ] as const)("%d ms on %s -> %d", (barMs, cal, want) => {
    expect(defaultPeriodsPerYear(barMs, cal)).toBeCloseTo(want, 10);
  });

  it("defaults to 24x7 and is what computeMetrics uses", () => {
    expect(defaultPeriodsPerYear(HOUR_MS)).toBe(8760);
    const m = computeMetrics(input({ equity: [100, 101], barMs: 15 * 60_000, calendar: "us-equity" }));
    expect(m.periodsPerYear).toBeCloseTo(252 * 26, 10);
  });

  it("rejects a non-positive bar size", () => {
    expect(() => defaultPeriodsPerYear(0)).toThrow(RangeError);
    expect(() => defaultPeriodsPerYear(Number.NaN)).toThrow(RangeError);
  });
});

describe("monthlyReturns", () => {
  // Bars (by START time, UTC) and equity:
  //   2023-11-15 100, 2023-11-30 110                 -> Nov: 110/100 - 1 = 0.1 (first month vs the first bar)
  //   2023-12-01 105, 2023-12-31 23:00 121           -> Dec: 121/110 - 1 = 0.1 (the 23:00 bar belongs to December)
  //   2024-01-01 00:00 120, 2024-01-31 132           -> Jan: 132/121 - 1 = 0.0909090909
  //   (no February bars: no entry)
  //   2024-03-05 99                                  -> Mar: 99/132 - 1 = -0.25
  const ts = Float64Array.from([
    Date.UTC(2023, 10, 15), Date.UTC(2023, 10, 30),
    Date.UTC(2023, 11, 1), Date.UTC(2023, 11, 31, 23),
    Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 31),
    Date.UTC(2024, 2, 5),
  ]);
  const equity = Float64Array.from([100, 110, 105, 121, 120, 132, 99]);

  it("crosses a year boundary and skips empty months", () => {
    const mr = monthlyReturns(ts, equity);
    expect(mr.map(({ year, month }) => [year, month])).toEqual([[2023, 11], [2023, 12], [2024, 1], [2024, 3]]);
    const want = [0.1, 0.1, 1 / 11, -0.25];
    want.forEach((w, i) => expect(mr[i]!.ret).toBeCloseTo(w, 10));
  });

  it("can start from initialCash instead of the first bar", () => {
    // Nov: 110/50 - 1 = 1.2, the rest unchanged
    const mr = monthlyReturns(ts, equity, 50);
    expect(mr[0]!.ret).toBeCloseTo(1.2, 10);
    expect(mr[1]!.ret).toBeCloseTo(0.1, 10);
    expect(mr.reduce((a, x) => a * (1 + x.ret), 1)).toBeCloseTo(99 / 50, 10);
  });

  it("handles empty input and rejects bad input", () => {
    expect(monthlyReturns(new Float64Array(0), new Float64Array(0))).toEqual([]);
    expect(() => monthlyReturns(ts, equity.subarray(1))).toThrow(RangeError);
    expect(() => monthlyReturns(Float64Array.from([T0, T0]), Float64Array.from([1, 2]))).toThrow(/ascending/);
  });
});

describe("drawdownSeries", () => {
  it("is the positive fraction below the running peak", () => {
    // peaks 100, 120, 120, 120, 120 -> [0, 0, 30/120, 0, 60/120]
    expect(Array.from(drawdownSeries(Float64Array.from([100, 120, 90, 120, 60])))).toEqual([0, 0, 0.25, 0, 0.5]);
    // seeded at 200: [100/200, 80/200, 110/200, 80/200, 140/200]
    const s = drawdownSeries(Float64Array.from([100, 120, 90, 120, 60]), 200);
    [0.5, 0.4, 0.55, 0.4, 0.7].forEach((w, i) => expect(s[i]).toBeCloseTo(w, 10));
    expect(drawdownSeries(new Float64Array(0))).toHaveLength(0);
  });
});
