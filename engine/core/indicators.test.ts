import * as ti from "technicalindicators";
import { describe, expect, it } from "vitest";
import { fsum } from "./exact-sum";
import {
  ADX,
  ATR,
  Bollinger,
  Donchian,
  EMA,
  INDICATOR_DEFAULTS,
  INDICATOR_INPUTS,
  INDICATOR_KINDS,
  INDICATOR_OUTPUTS,
  INDICATOR_PARAMS,
  MACD,
  OBV,
  RSI,
  SMA,
  Stochastic,
  VWAP,
  WMA,
  createIndicator,
  validateIndicatorSpec,
  type Indicator,
  type IndicatorSpec,
} from "./indicators";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** mulberry32: small seeded PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Bars {
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** n bars of a mean-reverting random walk around 15,000 (2-decimal prices). */
function makeBars(n: number, seed: number): Bars {
  const rnd = mulberry32(seed);
  const b: Bars = { open: [], high: [], low: [], close: [], volume: [] };
  let prev = 15_000;
  for (let i = 0; i < n; i++) {
    const open = prev;
    const close = r2(open + (rnd() - 0.5) * 40 + (15_000 - open) * 0.01);
    const high = r2(Math.max(open, close) + rnd() * 15);
    const low = r2(Math.min(open, close) - rnd() * 15);
    b.open.push(open);
    b.high.push(high);
    b.low.push(low);
    b.close.push(close);
    b.volume.push(1 + Math.floor(rnd() * 5000));
    prev = close;
  }
  return b;
}

const BARS = makeBars(2000, 20240601);
const N = BARS.close.length;

function runValue(ind: { update(x: number): number }, xs: readonly number[]): number[] {
  return xs.map((x) => ind.update(x));
}

/** Runs a bar indicator over bars, collecting the named outputs after each bar. */
function runBars<T extends Indicator>(ind: T, bars: Bars, outputs: readonly string[] = ind.outputs): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const o of outputs) out[o] = [];
  for (let i = 0; i < bars.close.length; i++) {
    if (ind.input === "bar") ind.update(bars.high[i]!, bars.low[i]!, bars.close[i]!, bars.volume[i]!);
    else ind.update(bars.close[i]!);
    for (const o of outputs) out[o]!.push(ind.read(o));
  }
  return out;
}

/** |a - b| <= rel * max(|a|, |b|, scale). */
function near(a: number, b: number, rel: number, scale = 1): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), scale);
}

/**
 * Compares our series (length N) with a library series that covers the last
 * lib.length bars. Checks that the library starts where expected, that we are
 * NaN exactly where we should be, and that every overlapping value is near.
 */
function expectTailNear(
  ours: number[],
  lib: readonly (number | undefined)[],
  opts: { libStart: number; ourStart: number; rel: number; scale?: number; label: string },
): number {
  expect(lib.length, `${opts.label}: library output length`).toBe(ours.length - opts.libStart);
  for (let i = 0; i < opts.ourStart; i++) expect(ours[i], `${opts.label}: ours[${i}] during warm-up`).toBeNaN();
  let compared = 0;
  let worst = 0;
  for (let i = Math.max(opts.libStart, opts.ourStart); i < ours.length; i++) {
    const l = lib[i - opts.libStart];
    if (l === undefined || Number.isNaN(l)) continue;
    const o = ours[i]!;
    const err = Math.abs(o - l) / Math.max(Math.abs(o), Math.abs(l), opts.scale ?? 1);
    if (!(err <= opts.rel)) throw new Error(`${opts.label}: bar ${i}: ours ${o} vs library ${l} (rel err ${err})`);
    worst = Math.max(worst, err);
    compared++;
  }
  expect(compared, `${opts.label}: compared values`).toBeGreaterThan(ours.length / 2);
  return worst;
}

// Exact reference for fsum / period: doubles are integers in units of 2^-1074.
const dv = new DataView(new ArrayBuffer(8));
function scaled(x: number): bigint {
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const v = mant << BigInt(biased === 0 ? 0 : biased - 1);
  return hi >>> 31 ? -v : v;
}
function roundScaled(n: bigint): number {
  if (n === 0n) return 0;
  const neg = n < 0n;
  const a = neg ? -n : n;
  const bits = a.toString(2).length;
  let r: number;
  if (bits <= 53) r = Number(a) * Number.MIN_VALUE;
  else {
    const shift = bits - 53;
    let q = a >> BigInt(shift);
    const rem = a - (q << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    r = Number(q) * 2 ** (shift - 1074);
  }
  return neg ? -r : r;
}
/** Python's math.fsum(xs) / len(xs), computed exactly with BigInt. */
function exactMean(xs: ArrayLike<number>): number {
  let s = 0n;
  for (let i = 0; i < xs.length; i++) s += scaled(xs[i]!);
  return roundScaled(s) / xs.length;
}

const specsUnderTest: IndicatorSpec[] = [
  { kind: "sma", period: 5 },
  { kind: "ema", period: 5 },
  { kind: "wma", period: 5 },
  { kind: "rsi", period: 5 },
  { kind: "macd", fast: 3, slow: 6, signal: 4 },
  { kind: "bollinger", period: 5, k: 2 },
  { kind: "atr", period: 5 },
  { kind: "stochastic", period: 5, kSmoothing: 3, dPeriod: 3 },
  { kind: "vwap" },
  { kind: "adx", period: 5 },
  { kind: "obv" },
  { kind: "donchian", period: 5 },
];

// ---------------------------------------------------------------------------
// Hand-computed fixtures
// ---------------------------------------------------------------------------

describe("hand-computed fixtures", () => {
  it("SMA(3) of 1,2,3,4", () => {
    expect(runValue(new SMA(3), [1, 2, 3, 4])).toEqual([NaN, NaN, 2, 3]);
  });

  it("EMA(3) of 1..5: seed = SMA(3), alpha = 0.5", () => {
    expect(runValue(new EMA(3), [1, 2, 3, 4, 5])).toEqual([NaN, NaN, 2, 3, 4]);
    // 2 then 2*0.5 + 10*0.5 = 6, then 6*0.5 + 0*0.5 = 3
    expect(runValue(new EMA(3), [1, 2, 3, 10, 0])).toEqual([NaN, NaN, 2, 6, 3]);
  });

  it("WMA(3) of 1..5: weights 1,2,3 / 6", () => {
    expect(runValue(new WMA(3), [1, 2, 3, 4, 5])).toEqual([NaN, NaN, 14 / 6, 20 / 6, 26 / 6]);
    // 5*1 + 1*2 + 9*3 = 34 -> 34/6; then 1 + 18 + 3*0 = 19 -> 19/6
    expect(runValue(new WMA(3), [5, 1, 9, 0])).toEqual([NaN, NaN, 34 / 6, 19 / 6]);
  });

  it("RSI(2): Wilder averages by hand", () => {
    // changes +1, -0.5, +1, -0.5; seed avgGain = (1+0)/2, avgLoss = (0+0.5)/2
    const got = runValue(new RSI(2), [1, 2, 1.5, 2.5, 2]);
    expect(got.slice(0, 2)).toEqual([NaN, NaN]);
    expect(got[2]).toBeCloseTo(100 - 100 / 3, 12); // RS = 0.5 / 0.25 = 2
    expect(got[3]).toBeCloseTo(100 - 100 / 7, 12); // 0.75 / 0.125 = 6
    expect(got[4]).toBeCloseTo(100 - 100 / 2.2, 12); // 0.375 / 0.3125 = 1.2
  });

  it("RSI(14) on the StockCharts textbook series", () => {
    // StockCharts' RSI article spreadsheet (cs-rsi.xls): its closes carry 4
    // decimals (the article's table shows them rounded to 2).
    const closes = [
      44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931, 46.0328, 45.614,
      46.282, 46.282, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548,
      44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
    ];
    const want = [
      70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46, 41.87, 45.46,
      37.3, 33.08, 37.77,
    ];
    const got = runValue(new RSI(14), closes);
    expect(got.slice(0, 14).every(Number.isNaN)).toBe(true);
    got.slice(14).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(0.005 + 1e-9));
  });

  it("RSI edge cases: only gains -> 100, flat -> 50, only losses -> 0", () => {
    expect(runValue(new RSI(3), [1, 2, 3, 4, 5]).slice(3)).toEqual([100, 100]);
    expect(runValue(new RSI(3), [7, 7, 7, 7, 7]).slice(3)).toEqual([50, 50]);
    expect(runValue(new RSI(3), [5, 4, 3, 2, 1]).slice(3)).toEqual([0, 0]);
  });

  it("MACD(2, 3, 2) by hand", () => {
    const m = new MACD(2, 3, 2);
    const rows = [1, 3, 2, 5, 4, 6].map((x) => [m.update(x), m.signal, m.histogram]);
    // fast EMA(2): 2, 2, 4, 4, 16/3; slow EMA(3): 2, 3.5, 3.75, 4.875
    // macd: 0, 0.5, 0.25, 11/24; signal EMA(2) seeded (0 + 0.5)/2: 0.25, 0.25, 7/18
    for (const r of rows.slice(0, 3)) expect(r.every(Number.isNaN)).toBe(true);
    const want = [
      [0.5, 0.25, 0.25],
      [0.25, 0.25, 0],
      [11 / 24, 7 / 18, 5 / 72],
    ];
    rows.slice(3).forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 12)));
    expect(m.warmup).toBe(3);
  });

  it("Bollinger(3, 2) by hand: population standard deviation", () => {
    const b = new Bollinger(3, 2);
    const rows = [1, 2, 3, 4, 6].map((x) => [b.update(x), b.upper, b.lower]);
    expect(rows[1]!.every(Number.isNaN)).toBe(true);
    const sd1 = Math.sqrt(2 / 3); // {1,2,3}: squares 1 + 0 + 1 over 3
    expect(rows[2]![0]).toBe(2);
    expect(rows[2]![1]).toBeCloseTo(2 + 2 * sd1, 13);
    expect(rows[2]![2]).toBeCloseTo(2 - 2 * sd1, 13);
    expect(rows[3]![1]).toBeCloseTo(3 + 2 * sd1, 13);
    const sd3 = Math.sqrt(14) / 3; // {3,4,6}: mean 13/3, squares (16 + 1 + 25)/9 over 3
    expect(rows[4]![0]).toBeCloseTo(13 / 3, 14);
    expect(rows[4]![1]).toBeCloseTo(13 / 3 + 2 * sd3, 13);
    expect(rows[4]![2]).toBeCloseTo(13 / 3 - 2 * sd3, 13);
    expect(b.stdDev).toBeCloseTo(sd3, 14);
  });

  it("ATR(3) by hand", () => {
    const a = new ATR(3);
    // TR from bar 1: 2, 2, 3, 1, 4
    const bars: [number, number, number][] = [
      [10, 8, 9],
      [11, 9, 10.5],
      [12, 10, 11],
      [14, 12, 13],
      [13.5, 12.5, 13],
      [13, 9, 10],
    ];
    const got = bars.map(([h, l, c]) => a.update(h, l, c));
    expect(got.slice(0, 3).every(Number.isNaN)).toBe(true);
    expect(got[3]).toBeCloseTo(7 / 3, 13);
    expect(got[4]).toBeCloseTo(17 / 9, 13); // 7/3 * 2/3 + 1/3
    expect(got[5]).toBeCloseTo(70 / 27, 13); // 17/9 * 2/3 + 4/3
    expect(a.warmup).toBe(3);
  });

  const stochBars: [number, number, number][] = [
    [10, 8, 9],
    [11, 9, 10],
    [12, 9.5, 11], // HH 12 LL 8: raw 75
    [11, 10, 10.5], // HH 12 LL 9: raw 50
    [13, 10, 12], // HH 13 LL 9.5: raw 2.5/3.5 = 71.43
  ];
  it("Stochastic(3, 1, 2) (fast) by hand", () => {
    const s = new Stochastic(3, 1, 2);
    const rows = stochBars.map(([h, l, c]) => [s.update(h, l, c), s.d]);
    expect(rows.slice(0, 3).flat().every(Number.isNaN)).toBe(true);
    expect(rows[3]![0]).toBeCloseTo(50, 13);
    expect(rows[3]![1]).toBeCloseTo(62.5, 13);
    expect(rows[4]![0]).toBeCloseTo(500 / 7, 12);
    expect(rows[4]![1]).toBeCloseTo((50 + 500 / 7) / 2, 12);
  });
  it("Stochastic(3, 2, 2) (slow: %K smoothed) by hand", () => {
    const s = new Stochastic(3, 2, 2);
    const rows = stochBars.map(([h, l, c]) => [s.update(h, l, c), s.d]);
    expect(rows.slice(0, 4).flat().every(Number.isNaN)).toBe(true);
    const k3 = (75 + 50) / 2;
    const k4 = (50 + 500 / 7) / 2;
    expect(rows[4]![0]).toBeCloseTo(k4, 12);
    expect(rows[4]![1]).toBeCloseTo((k3 + k4) / 2, 12);
    expect(s.warmup).toBe(4);
  });
  it("Stochastic: zero range gives 0 (TA-Lib)", () => {
    const s = new Stochastic(2, 1, 1);
    s.update(5, 5, 5);
    expect(s.update(5, 5, 5)).toBe(0);
  });

  it("VWAP by hand, zero-volume bars, reset() and session keys", () => {
    const v = new VWAP();
    expect(v.update(11, 9, 10, 100)).toBe(10); // typical 10
    expect(v.update(12, 10, 11, 300)).toBe(10.75); // (1000 + 3300) / 400
    expect(v.update(13, 11, 12, 0)).toBe(10.75);
    v.reset();
    expect(v.value).toBeNaN();
    expect(v.ready).toBe(false);
    expect(v.update(13, 11, 12, 0)).toBeNaN(); // no volume yet this session
    expect(v.update(13, 11, 12, 5)).toBe(12);

    const s = new VWAP();
    expect(s.update(11, 9, 10, 100, "2024-01-02")).toBe(10);
    expect(s.update(12, 10, 11, 300, "2024-01-02")).toBe(10.75);
    expect(s.update(21, 19, 20, 50, "2024-01-03")).toBe(20); // new session: anchored here
    expect(s.update(24, 20, 22, 150, "2024-01-03")).toBe((20 * 50 + 22 * 150) / 200);
    expect(s.update(24, 20, 22, 150)).toBe((20 * 50 + 22 * 300) / 350); // no key: same session
    expect(s.update(11, 9, 10, 10, 7)).toBe(10); // numeric keys work too
  });

  it("ADX(2) by hand", () => {
    const a = new ADX(2);
    const bars: [number, number, number][] = [
      [10, 8, 9],
      [12, 9, 11], // +DM 2, -DM 0, TR 3
      [11, 7, 8], // +DM 0, -DM 2, TR 4
      [13, 8, 12], // +DM 2, -DM 0, TR 5
      [14, 11, 13], // +DM 1, -DM 0, TR 3
    ];
    const rows = bars.map(([h, l, c]) => [a.update(h, l, c), a.plusDI, a.minusDI]);
    expect(rows.slice(0, 3).flat().every(Number.isNaN)).toBe(true);
    // bar 2: ATR 3.5, +DM 1, -DM 1 -> DX 0. bar 3: ATR 4.25, +DM 1.5, -DM 0.5 -> DX 0.5; ADX = (0 + 0.5)/2
    expect(rows[3]![0]).toBeCloseTo(25, 12);
    expect(rows[3]![1]).toBeCloseTo(150 / 4.25, 12);
    expect(rows[3]![2]).toBeCloseTo(50 / 4.25, 12);
    // bar 4: ATR 3.625, +DM 1.25, -DM 0.25 -> DX 1/1.5; ADX = 0.25/2 + (2/3)/2
    expect(rows[4]![0]).toBeCloseTo(100 * (0.125 + 1 / 3), 12);
    expect(rows[4]![1]).toBeCloseTo(125 / 3.625, 12);
    expect(rows[4]![2]).toBeCloseTo(25 / 3.625, 12);
    expect(a.warmup).toBe(3);
  });

  it("OBV by hand", () => {
    const o = new OBV();
    const closes = [10, 11, 11, 10.5, 12];
    const vols = [100, 200, 300, 400, 500];
    expect(closes.map((c, i) => o.update(c, c, c, vols[i]))).toEqual([0, 200, 200, -200, 300]);
  });

  it("Donchian(3) by hand", () => {
    const d = new Donchian(3);
    const highs = [5, 7, 6, 4, 3];
    const lows = [3, 4, 2, 3, 1];
    const rows = highs.map((h, i) => [d.update(h, lows[i]!, 0), d.upper, d.lower]);
    expect(rows.slice(0, 2).flat().every(Number.isNaN)).toBe(true);
    expect(rows.slice(2)).toEqual([
      [4.5, 7, 2],
      [4.5, 7, 2],
      [3.5, 6, 1],
    ]);
  });
});

// ---------------------------------------------------------------------------
// Uniform API: warm-up, ready, read(), reset(), factory, validation
// ---------------------------------------------------------------------------

describe("uniform API", () => {
  it("lists every kind with its outputs, input and parameters", () => {
    expect([...INDICATOR_KINDS].sort()).toEqual(Object.keys(INDICATOR_OUTPUTS).sort());
    expect(Object.keys(INDICATOR_INPUTS).sort()).toEqual([...INDICATOR_KINDS].sort());
    expect(Object.keys(INDICATOR_PARAMS).sort()).toEqual([...INDICATOR_KINDS].sort());
    expect(INDICATOR_OUTPUTS.macd).toEqual(["macd", "signal", "histogram"]);
    expect(INDICATOR_OUTPUTS.bollinger).toEqual(["middle", "upper", "lower"]);
    expect(INDICATOR_OUTPUTS.adx).toEqual(["adx", "plusDI", "minusDI"]);
    expect(specsUnderTest.map((s) => s.kind).sort()).toEqual([...INDICATOR_KINDS].sort());
    for (const k of INDICATOR_KINDS) {
      expect(validateIndicatorSpec(INDICATOR_DEFAULTS[k])).toBeNull();
      const ind = createIndicator(INDICATOR_DEFAULTS[k]);
      expect(ind.kind).toBe(k);
      expect(ind.input).toBe(INDICATOR_INPUTS[k]);
      expect(ind.outputs).toEqual(INDICATOR_OUTPUTS[k]);
    }
  });

  it.each(specsUnderTest.map((s) => [s.kind, s] as const))(
    "%s: NaN for exactly `warmup` updates, then ready with every output defined",
    (_kind, spec) => {
      const ind = createIndicator(spec);
      expect(ind.ready).toBe(false);
      expect(ind.value).toBeNaN();
      for (let i = 0; i < 300; i++) {
        const ret =
          ind.input === "bar"
            ? ind.update(BARS.high[i]!, BARS.low[i]!, BARS.close[i]!, BARS.volume[i]!)
            : ind.update(BARS.close[i]!);
        const isReady = i >= ind.warmup;
        expect(ind.ready, `update ${i}`).toBe(isReady);
        expect(Object.is(ret, ind.value)).toBe(true);
        expect(Object.is(ind.value, ind.read(ind.outputs[0]!))).toBe(true);
        for (const o of ind.outputs) {
          const v = ind.read(o);
          if (isReady) expect(Number.isFinite(v), `${o} at ${i}`).toBe(true);
          else expect(v, `${o} at ${i}`).toBeNaN();
          // multi-output indicators expose each output as a getter of the same name
          if (ind.outputs.length > 1) expect(Object.is(v, (ind as unknown as Record<string, number>)[o])).toBe(true);
        }
      }
      expect(() => ind.read("nope")).toThrow(RangeError);
    },
  );

  it.each(specsUnderTest.map((s) => [s.kind, s] as const))("%s: reset() gives a fresh indicator", (_kind, spec) => {
    const a = createIndicator(spec);
    const first = runBars(a, makeBars(120, 1));
    runBars(a, makeBars(50, 2)); // dirty it with other data
    a.reset();
    expect(a.ready).toBe(false);
    expect(a.value).toBeNaN();
    const again = runBars(a, makeBars(120, 1));
    const fresh = runBars(createIndicator(spec), makeBars(120, 1));
    expect(again).toEqual(first);
    expect(fresh).toEqual(first);
  });

  it("createIndicator returns the concrete class (typed by kind)", () => {
    const m = createIndicator({ kind: "macd", fast: 12, slow: 26, signal: 9 });
    expect(m).toBeInstanceOf(MACD);
    expect(m.warmup).toBe(33); // TA-Lib MACD(12,26,9) lookback
    const b = createIndicator({ kind: "bollinger", period: 20, k: 2 });
    expect(b.k).toBe(2);
    expect(createIndicator({ kind: "sma", period: 3 })).toBeInstanceOf(SMA);
    expect(createIndicator({ kind: "rsi", period: 14 }).warmup).toBe(14);
    expect(createIndicator({ kind: "atr", period: 14 }).warmup).toBe(14);
    expect(createIndicator({ kind: "adx", period: 14 }).warmup).toBe(27);
    expect(createIndicator({ kind: "stochastic", period: 14, kSmoothing: 3, dPeriod: 3 }).warmup).toBe(17);
    expect(createIndicator({ kind: "vwap" }).warmup).toBe(0);
    expect(createIndicator({ kind: "obv" }).warmup).toBe(0);
  });

  it("validateIndicatorSpec names the bad field", () => {
    const bad = (s: unknown) => validateIndicatorSpec(s);
    expect(bad(null)).toBe("spec must be an object");
    expect(bad([])).toBe("spec must be an object");
    expect(bad({ kind: "smaa", period: 3 })).toMatch(/^kind must be one of: sma, ema/);
    expect(bad({ period: 3 })).toMatch(/^kind must be one of/);
    expect(bad({ kind: "sma" })).toBe("period must be an integer >= 1");
    expect(bad({ kind: "sma", period: 0 })).toBe("period must be an integer >= 1");
    expect(bad({ kind: "sma", period: 2.5 })).toBe("period must be an integer >= 1");
    expect(bad({ kind: "sma", period: "20" })).toBe("period must be an integer >= 1");
    expect(bad({ kind: "sma", period: NaN })).toBe("period must be an integer >= 1");
    expect(bad({ kind: "sma", period: 2_000_000 })).toBe("period must be <= 1000000");
    expect(bad({ kind: "sma", period: 3, lenght: 4 })).toBe("lenght is not a parameter of sma");
    expect(bad({ kind: "macd", fast: 12, slow: 26 })).toBe("signal must be an integer >= 1");
    expect(bad({ kind: "macd", fast: 0, slow: 26, signal: 9 })).toBe("fast must be an integer >= 1");
    expect(bad({ kind: "macd", fast: 26, slow: 12, signal: 9 })).toBe("slow must be greater than fast");
    expect(bad({ kind: "bollinger", period: 20, k: -1 })).toBe("k must be a finite number >= 0");
    expect(bad({ kind: "bollinger", period: 20, k: Infinity })).toBe("k must be a finite number >= 0");
    expect(bad({ kind: "bollinger", period: 20 })).toBe("k must be a finite number >= 0");
    expect(bad({ kind: "stochastic", period: 14, kSmoothing: 0, dPeriod: 3 })).toBe("kSmoothing must be an integer >= 1");
    expect(bad({ kind: "stochastic", period: 14, kSmoothing: 3 })).toBe("dPeriod must be an integer >= 1");
    expect(bad({ kind: "vwap", period: 3 })).toBe("period is not a parameter of vwap");
    expect(bad({ kind: "bollinger", period: 20, k: 0 })).toBeNull();
    for (const s of specsUnderTest) expect(bad(s)).toBeNull();
  });

  it("createIndicator and constructors reject bad parameters", () => {
    expect(() => createIndicator({ kind: "ema", period: 0 })).toThrow("period must be an integer >= 1");
    expect(() => createIndicator({ kind: "wma", period: 3, extra: 1 } as unknown as IndicatorSpec)).toThrow(
      "extra is not a parameter of wma",
    );
    expect(() => new SMA(0)).toThrow(RangeError);
    expect(() => new MACD(26, 12, 9)).toThrow("slow must be greater than fast");
    expect(() => new Bollinger(20, NaN)).toThrow("k must be");
    expect(() => new Stochastic(14, 3, 0)).toThrow("dPeriod must be");
  });
});

// ---------------------------------------------------------------------------
// SMA: exact parity with backtrader's math.fsum(window) / period
// ---------------------------------------------------------------------------

describe("SMA exactness", () => {
  it("constant 4321.25 stays exactly 4321.25 for 1M updates (any period)", () => {
    for (const p of [1, 3, 10, 30, 200]) {
      const s = new SMA(p);
      let bad = 0;
      for (let i = 0; i < 1_000_000; i++) {
        const v = s.update(4321.25);
        if (i >= p - 1 && v !== 4321.25) bad++;
      }
      expect(bad, `period ${p}`).toBe(0);
    }
  });

  it("constant 0.1 stays exactly fsum/period forever: 0.1 itself for e.g. periods 1, 2, 10, 20, 30, 200", () => {
    // fsum of p copies of 0.1 is fl(p * 0.1); dividing by p gives back 0.1
    // for most periods, but e.g. for p = 3 backtrader's (and our) SMA is
    // fl(0.30000000000000004 / 3) = 0.10000000000000002. Either way constant.
    for (const p of [1, 2, 3, 10, 20, 30, 200]) {
      const want = (p * 0.1) / p;
      expect(want).toBe(fsum(new Array<number>(p).fill(0.1)) / p);
      if (p !== 3) expect(want).toBe(0.1);
      else expect(want).toBe(0.10000000000000002);
      const s = new SMA(p);
      let bad = 0;
      for (let i = 0; i < 1_000_000; i++) {
        const v = s.update(0.1);
        if (i >= p - 1 && v !== want) bad++;
      }
      expect(bad, `period ${p}`).toBe(0);
    }
  });

  it("no drift: after 1M random updates equals the exact fsum(window)/period (BigInt reference)", () => {
    const rnd = mulberry32(99);
    const total = 1_000_000;
    const xs = new Float64Array(total);
    let p = 15_000;
    for (let i = 0; i < total; i++) {
      // a wandering 2-decimal price plus occasional full-precision doubles
      p = Math.max(1, r2(p + (rnd() - 0.5) * 30));
      xs[i] = i % 7 === 0 ? p + rnd() : p;
    }
    const smas = [10, 30, 200].map((n) => new SMA(n));
    let checked = 0;
    for (let i = 0; i < total; i++) {
      for (const s of smas) {
        s.update(xs[i]!);
        if ((i + 1) % 50_000 === 0 || i >= total - 3) {
          expect(s.value).toBe(exactMean(xs.subarray(i + 1 - s.period, i + 1)));
          checked++;
        }
      }
    }
    expect(checked).toBe(3 * (20 + 2));
  });

  it("bit-identical to the exact fsum/period at every step (30k steps, 2-decimal and full-precision data)", () => {
    const rnd = mulberry32(5);
    for (const gen of [() => r2(1 + rnd() * 99_999), () => 1 + rnd() * 99_999]) {
      for (const period of [10, 30, 200]) {
        const s = new SMA(period);
        const xs: number[] = [];
        let sum = 0n;
        const sc: bigint[] = [];
        let bad = 0;
        for (let i = 0; i < 30_000; i++) {
          const x = gen();
          xs.push(x);
          sc.push(scaled(x));
          sum += sc[i]!;
          if (i >= period) sum -= sc[i - period]!;
          const v = s.update(x);
          if (i >= period - 1 && !Object.is(v, roundScaled(sum) / period)) bad++;
        }
        expect(bad).toBe(0);
      }
    }
  });

  it("recovers exactness after outliers beyond double-double range and after NaN", () => {
    const s = new SMA(4);
    const xs = [100.25, 1e300, 3e-300, 7.5, 1e-20, 99.99, 1e20, 12.5, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
    xs.forEach((x, i) => {
      const v = s.update(x);
      if (i >= 3) expect(v, `step ${i}`).toBe(exactMean(xs.slice(i - 3, i + 1)));
    });
    const t = new SMA(3);
    const ys = [1, 2, NaN, 4, 5, 6, 7.25];
    const got = ys.map((y) => t.update(y));
    expect(got.slice(2, 5).every(Number.isNaN)).toBe(true);
    expect(got.slice(5)).toEqual([5, (5 + 6 + 7.25) / 3]);
    const u = new SMA(2);
    u.update(Infinity);
    expect(u.update(1)).toBe(Infinity);
    expect(u.update(2)).toBe(1.5);
  });
});

describe("Bollinger numerics", () => {
  it("constant series: width exactly 0 and middle fsum/period for 1M updates", () => {
    for (const c of [0.1, 4321.25, 15_000.17]) {
      const b = new Bollinger(20, 2);
      let bad = 0;
      for (let i = 0; i < 1_000_000; i++) {
        b.update(c);
        if (i >= 19 && (b.upper !== b.middle || b.lower !== b.middle || b.stdDev !== 0 || b.middle !== (20 * c) / 20)) bad++;
      }
      expect(bad, `constant ${c}`).toBe(0);
    }
  });

  it("accurate where E[x²] - E[x]² cancels catastrophically (prices near 1e8, spread < 1)", () => {
    const rnd = mulberry32(17);
    const period = 20;
    const b = new Bollinger(period, 2);
    const xs: number[] = [];
    let worst = 0;
    let naiveWorst = 0;
    for (let i = 0; i < 5000; i++) {
      const x = 1e8 + r2(rnd());
      xs.push(x);
      b.update(x);
      if (i < period - 1) continue;
      const w = xs.slice(i - period + 1, i + 1);
      // exact population variance with BigInt: units of 2^-26 are exact for these values
      const E = 26n;
      const ints = w.map((v) => {
        const n = scaled(v) >> (1074n - E);
        expect(Number(n) / 2 ** 26).toBe(v);
        return n;
      });
      const S = ints.reduce((a, v) => a + v, 0n);
      const Q = ints.reduce((a, v) => a + v * v, 0n);
      const n = BigInt(period);
      const varExact = Number(n * Q - S * S) / Number(n * n) / 2 ** 52;
      const sdExact = Math.sqrt(varExact);
      worst = Math.max(worst, Math.abs(b.stdDev - sdExact) / sdExact);
      const mean = w.reduce((a, v) => a + v, 0) / period;
      const naive = Math.sqrt(Math.max(0, w.reduce((a, v) => a + v * v, 0) / period - mean * mean));
      naiveWorst = Math.max(naiveWorst, Math.abs(naive - sdExact) / sdExact);
    }
    expect(worst).toBeLessThan(1e-13);
    expect(naiveWorst).toBeGreaterThan(1e-3); // what the textbook formula would do
  });

  it("never negative or NaN on random data, including long runs", () => {
    const b = new Bollinger(30, 2.5);
    const rnd = mulberry32(8);
    let p = 100;
    let bad = 0;
    let zero = 0;
    for (let i = 0; i < 200_000; i++) {
      // mostly a constant 100 with occasional nearby prices: tiny variances
      p = Math.max(0.01, r2(p + (rnd() - 0.5) * 0.05));
      b.update(rnd() < 0.2 ? p : 100);
      if (i >= 29) {
        if (!(b.stdDev >= 0 && b.upper >= b.middle && b.middle >= b.lower)) bad++;
        if (b.stdDev === 0) zero++;
      }
    }
    expect(bad).toBe(0);
    expect(zero).toBeGreaterThan(0); // windows of all-100 occur and give exactly 0
  });
});

// ---------------------------------------------------------------------------
// Cross-checks against technicalindicators (independent implementation)
//
// Where the library's conventions differ, and how the comparison adapts:
// - Warm-up/output alignment: the library returns only defined values, so
//   its arrays cover the last `length` bars; expectTailNear checks that the
//   library starts where expected and compares from where both are defined.
// - MACD and Stochastic: the library emits the MACD line / %K before the signal
//   / %D exists; ours are all-or-nothing (as TA-Lib's lookback and backtrader's
//   minimum period), so we compare from our first bar.
// - MACD: the library's MACD class defaults to SMA oscillator and signal;
//   SimpleMAOscillator/SimpleMASignal false select the EMAs of the standard MACD.
// - RSI: the library rounds RSI to 2 decimals (toFixed(2)): compared within
//   0.005; the unrounded check rebuilds RSI from the library's own Wilder
//   average gain/loss (same seed and smoothing) at 1e-12.
// - Stochastic: the library is the fast stochastic (raw %K, %D = SMA of raw
//   %K); ours with kSmoothing = 1 is the same, and the slow form is compared
//   with the library's SMA applied to the library's raw %K.
// - VWAP: the library has no session anchor (cumulative from its first bar):
//   compared on the whole series as one session, and per session by running
//   the library on each session's bars.
// - OBV: the library's first value is at bar 1 (0 +/- volume); ours is 0 at
//   bar 0, then the same. (TA-Lib would start at volume[0]: a constant offset.)
// - Donchian: the library has none; upper/lower are its Highest/Lowest.
// - Arithmetic: the library keeps a naive running sum for SMA (ours: exact
//   fsum), updates EMA/Wilder as (x - prev) * alpha + prev (ours backtrader's
//   prev * (1 - alpha) + x * alpha), computes the Bollinger SD two-pass, and
//   smooths ADX's DX in percent: ulp-level differences only, so 1e-12 relative
//   tolerances (1e-10 for MACD, see there). Zero-division conventions differ
//   (flat windows: library RSI 100 and NaN ADX, ours 50 and 0) but the random
//   walk never produces a flat window.
// ---------------------------------------------------------------------------

describe(`cross-check vs technicalindicators on ${N} bars`, () => {
  const close = BARS.close;

  it("SMA(10), SMA(30), SMA(200): same convention (library uses a naive running sum)", () => {
    for (const period of [10, 30, 200]) {
      const ours = runValue(new SMA(period), close);
      expectTailNear(ours, ti.sma({ period, values: close }), {
        libStart: period - 1,
        ourStart: period - 1,
        rel: 1e-12,
        label: `SMA(${period})`,
      });
    }
  });

  it("EMA(10), EMA(50): same convention (SMA seed, alpha = 2/(n+1))", () => {
    for (const period of [10, 50]) {
      const ours = runValue(new EMA(period), close);
      expectTailNear(ours, ti.ema({ period, values: close }), {
        libStart: period - 1,
        ourStart: period - 1,
        rel: 1e-12,
        label: `EMA(${period})`,
      });
    }
  });

  it("WMA(20): same convention", () => {
    const ours = runValue(new WMA(20), close);
    expectTailNear(ours, ti.wma({ period: 20, values: close }), { libStart: 19, ourStart: 19, rel: 1e-12, label: "WMA(20)" });
  });

  it("RSI(14): library rounds RSI to 2 decimals; its Wilder averages match tightly", () => {
    const ours = runValue(new RSI(14), close);
    // The library's RSI is parseFloat(rsi.toFixed(2)): compare within half a cent.
    const lib = ti.rsi({ period: 14, values: close });
    expect(lib.length).toBe(N - 14);
    for (let i = 14; i < N; i++) expect(Math.abs(ours[i]! - lib[i - 14]!)).toBeLessThanOrEqual(0.005 + 1e-9);
    // Unrounded check: RSI from the library's own average gain / loss (same seed and smoothing).
    const g = ti.averagegain({ period: 14, values: close });
    const l = ti.averageloss({ period: 14, values: close });
    const fromLib = g.map((gi, j) => 100 - 100 / (1 + gi / l[j]!));
    expectTailNear(ours, fromLib, { libStart: 14, ourStart: 14, rel: 1e-12, scale: 100, label: "RSI(14) from avg gain/loss" });
  });

  it("MACD(12, 26, 9): same convention (independent SMA-seeded EMAs, EMA signal)", () => {
    const m = new MACD(12, 26, 9);
    const rows = runBars(m, BARS);
    // SimpleMAOscillator/SimpleMASignal false = EMAs (the library's class defaults are SMAs).
    const lib = ti.macd({ values: close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false });
    // The library emits the MACD line from bar 25 and the signal from bar 33; we emit all three from bar 33.
    // Tolerance 1e-10 of max(|value|, 1): the line is a difference of two EMAs near
    // 15,000, so ulp-level differences in the EMAs (the library updates them as
    // (x - prev) * alpha + prev, we as prev * (1 - alpha) + x * alpha, like
    // backtrader) are ~1e-12 absolute on values of order 1-50.
    const opts = { libStart: 25, ourStart: 33, rel: 1e-10 };
    expectTailNear(rows.macd!, lib.map((r) => r.MACD), { ...opts, label: "MACD line" });
    expectTailNear(rows.signal!, lib.map((r) => r.signal), { ...opts, label: "MACD signal" });
    expectTailNear(rows.histogram!, lib.map((r) => r.histogram), { ...opts, label: "MACD histogram" });
  });

  it("Bollinger(20, 2): same convention (population standard deviation)", () => {
    const rows = runBars(new Bollinger(20, 2), BARS);
    const lib = ti.bollingerbands({ period: 20, stdDev: 2, values: close });
    const opts = { libStart: 19, ourStart: 19 };
    expectTailNear(rows.middle!, lib.map((r) => r.middle), { ...opts, rel: 1e-12, label: "BB middle" });
    expectTailNear(rows.upper!, lib.map((r) => r.upper), { ...opts, rel: 1e-12, label: "BB upper" });
    expectTailNear(rows.lower!, lib.map((r) => r.lower), { ...opts, rel: 1e-12, label: "BB lower" });
    // the band width itself (what the variance computation decides), relative to the width
    const width = rows.upper!.map((u, i) => u - rows.lower![i]!);
    expectTailNear(width, lib.map((r) => r.upper - r.lower), { ...opts, rel: 1e-12, label: "BB width" });
  });

  it("ATR(14): same convention (TR from bar 1, SMA-seeded Wilder smoothing)", () => {
    const rows = runBars(new ATR(14), BARS);
    const lib = ti.atr({ period: 14, high: BARS.high, low: BARS.low, close });
    expectTailNear(rows.atr!, lib, { libStart: 14, ourStart: 14, rel: 1e-12, label: "ATR(14)" });
  });

  it("Stochastic: library = fast stochastic (raw %K, %D = SMA of raw %K); ours with kSmoothing 1 matches", () => {
    const rows = runBars(new Stochastic(14, 1, 3), BARS);
    const lib = ti.stochastic({ period: 14, signalPeriod: 3, high: BARS.high, low: BARS.low, close });
    // The library emits %K from bar 13 and %D from bar 15; we emit both from bar 15.
    expectTailNear(rows.k!, lib.map((r) => r.k), { libStart: 13, ourStart: 15, rel: 1e-12, scale: 100, label: "fast %K" });
    expectTailNear(rows.d!, lib.map((r) => r.d), { libStart: 13, ourStart: 15, rel: 1e-12, scale: 100, label: "fast %D" });
  });

  it("Stochastic(14, 3, 3) slow: %K = SMA(3) of the library's raw %K, %D = SMA(3) of that", () => {
    // The library has no %K smoothing, so build the slow form from its raw %K
    // with its own SMA: an honest composition, not our code.
    const rows = runBars(new Stochastic(14, 3, 3), BARS);
    const rawK = ti.stochastic({ period: 14, signalPeriod: 1, high: BARS.high, low: BARS.low, close }).map((r) => r.k);
    const slowK = ti.sma({ period: 3, values: rawK }); // from bar 13 + 2
    const slowD = ti.sma({ period: 3, values: slowK }); // from bar 15 + 2
    expectTailNear(rows.k!, slowK, { libStart: 15, ourStart: 17, rel: 1e-12, scale: 100, label: "slow %K" });
    expectTailNear(rows.d!, slowD, { libStart: 17, ourStart: 17, rel: 1e-12, scale: 100, label: "slow %D" });
  });

  it("VWAP: library is anchored at its first bar only; compare over one session and per session", () => {
    const one = runBars(new VWAP(), BARS);
    const lib = ti.vwap({ high: BARS.high, low: BARS.low, close, volume: BARS.volume });
    expectTailNear(one.vwap!, lib, { libStart: 0, ourStart: 0, rel: 1e-12, label: "VWAP whole series" });

    // Sessions of 390 bars keyed by index: restart the library on each session.
    const v = new VWAP();
    const ours = BARS.close.map((c, i) => v.update(BARS.high[i]!, BARS.low[i]!, c, BARS.volume[i]!, Math.floor(i / 390)));
    for (let s = 0; s * 390 < N; s++) {
      const a = s * 390;
      const b = Math.min(N, a + 390);
      const libS = ti.vwap({
        high: BARS.high.slice(a, b),
        low: BARS.low.slice(a, b),
        close: close.slice(a, b),
        volume: BARS.volume.slice(a, b),
      });
      expectTailNear(ours.slice(a, b), libS, { libStart: 0, ourStart: 0, rel: 1e-12, label: `VWAP session ${s}` });
    }
  });

  it("ADX(14) with +DI/-DI: same convention (Wilder sums seeded with period values, SMA-seeded ADX)", () => {
    const rows = runBars(new ADX(14), BARS);
    const lib = ti.adx({ period: 14, high: BARS.high, low: BARS.low, close });
    const opts = { libStart: 27, ourStart: 27, rel: 1e-12, scale: 100 };
    expectTailNear(rows.adx!, lib.map((r) => r.adx), { ...opts, label: "ADX" });
    expectTailNear(rows.plusDI!, lib.map((r) => r.pdi), { ...opts, label: "+DI" });
    expectTailNear(rows.minusDI!, lib.map((r) => r.mdi), { ...opts, label: "-DI" });
  });

  it("OBV: library emits from bar 1 starting at 0; we also start at 0 on bar 0: equal exactly", () => {
    const rows = runBars(new OBV(), BARS);
    const lib = ti.obv({ close, volume: BARS.volume });
    expect(lib.length).toBe(N - 1);
    expect(rows.obv![0]).toBe(0);
    expect(rows.obv!.slice(1)).toEqual(lib);
  });

  it("Donchian(20): upper/lower equal the library's Highest(high)/Lowest(low) exactly", () => {
    const rows = runBars(new Donchian(20), BARS);
    const hi = ti.highest({ period: 20, values: BARS.high });
    const lo = ti.lowest({ period: 20, values: BARS.low });
    expect(hi.length).toBe(N - 19);
    expect(rows.upper!.slice(19)).toEqual(hi);
    expect(rows.lower!.slice(19)).toEqual(lo);
    expect(rows.middle!.slice(19)).toEqual(hi.map((h, i) => (h + lo[i]!) / 2));
    expect(rows.upper!.slice(0, 19).every(Number.isNaN)).toBe(true);
  });
});
