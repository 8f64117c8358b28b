/**
 * A trading dataset: the bars, the instrument and its costs, the feature
 * matrix, and everything the vectorised environment needs per bar,
 * precomputed once with the trading core's own functions so the environment
 * fills exactly like engine/core's SimExchange:
 *
 * - buyPx[t] / sellPx[t]: the price a market buy / sell order working on bar
 *   t fills at: bar t's open plus slippage (core `slipped`), snapped to the
 *   tick against the trader, never outside the bar's range (the same rule as
 *   SimExchange.fillOnBar);
 * - buyTk / sellTk / markTk: those prices and the close in the units the
 *   core's Account keeps them in (whole ticks via TickGrid.ticks, the mark as
 *   close / tick; raw prices when the instrument has no tick grid);
 * - lastOfSession[t]: bar t is the last bar of its trading session (from the
 *   instrument's trading calendar), for "flat at session end".
 */
import { type CommissionModel, slipped, type SlippageModel, TickGrid, validateCommission, validateSlippage } from "../../core/costs";
import type { CoreInstrument } from "../../core/types";
import { calendarFor, sessionAtOrAfter } from "../../data/calendar";
import type { BarColumns, CalendarId } from "../../data/types";
import { buildFeatures, type FeatureMatrix, type FeatureSetSpec } from "./features";

export interface MarketSpec {
  instrument: CoreInstrument;
  commission?: CommissionModel;
  slippage?: SlippageModel;
  /** Nominal bar size in ms. */
  barMs: number;
  /** Trading calendar for session ends and metrics (default 24x7). */
  calendar?: CalendarId;
}

export interface TradingDataset {
  bars: BarColumns;
  length: number;
  market: Required<MarketSpec>;
  features: FeatureMatrix;
  grid: TickGrid;
  /** Currency value of one tick of one contract (the core Account's tickValue). */
  tickValue: number;
  buyPx: Float64Array;
  sellPx: Float64Array;
  buyTk: Float64Array;
  sellTk: Float64Array;
  markTk: Float64Array;
  lastOfSession: Uint8Array;
}

/** Validate market data for the environment: field-level messages, empty when fine. */
export function validateBars(bars: BarColumns): { field: string; message: string }[] {
  const errs: { field: string; message: string }[] = [];
  const n = bars.length;
  if (!(n >= 2)) errs.push({ field: "bars", message: `need at least 2 bars, got ${n}` });
  for (let t = 0; t < n && errs.length < 5; t++) {
    const o = bars.open[t]!;
    const h = bars.high[t]!;
    const l = bars.low[t]!;
    const c = bars.close[t]!;
    const when = () => `bar ${t} (${Number.isFinite(bars.ts[t]!) ? new Date(bars.ts[t]!).toISOString() : bars.ts[t]})`;
    // (x > 0 is false for NaN; x < Infinity excludes +Infinity)
    if (!(o > 0 && h > 0 && l > 0 && c > 0 && o < Infinity && h < Infinity && l < Infinity && c < Infinity)) errs.push({ field: `bars.${t}`, message: `${when()}: prices must be finite and > 0 (o ${o} h ${h} l ${l} c ${c})` });
    else if (!(l <= o && o <= h && l <= c && c <= h)) errs.push({ field: `bars.${t}`, message: `${when()}: open and close must lie in [low, high]` });
    if (t > 0 && !(bars.ts[t]! > bars.ts[t - 1]!)) errs.push({ field: `bars.${t}.ts`, message: `${when()}: timestamps must be strictly ascending` });
  }
  return errs;
}

export function buildDataset(bars: BarColumns, market: MarketSpec, features: FeatureSetSpec | FeatureMatrix): TradingDataset {
  const errs = validateBars(bars);
  const ce = validateCommission(market.commission ?? { kind: "none" });
  if (ce) errs.push({ field: "commission", message: ce });
  const se = validateSlippage(market.slippage ?? { kind: "none" });
  if (se) errs.push({ field: "slippage", message: se });
  if (!(market.barMs > 0)) errs.push({ field: "barMs", message: `barMs must be > 0, got ${market.barMs}` });
  if (!(market.instrument.pointValue > 0)) errs.push({ field: "instrument.pointValue", message: `point value must be > 0` });
  if (!(market.instrument.tickSize >= 0)) errs.push({ field: "instrument.tickSize", message: `tick size must be >= 0` });
  if (errs.length) throw new RangeError(errs.map((e) => `${e.field}: ${e.message}`).join("; "));

  const m: Required<MarketSpec> = {
    instrument: market.instrument,
    commission: market.commission ?? { kind: "none" },
    slippage: market.slippage ?? { kind: "none" },
    barMs: market.barMs,
    calendar: market.calendar ?? "24x7",
  };
  const n = bars.length;
  const fm = "data" in features ? features : buildFeatures(bars, features);
  if (fm.length !== n) throw new RangeError(`features: matrix has ${fm.length} rows for ${n} bars`);
  const inst = m.instrument;
  const grid = new TickGrid(inst.tickSize);
  const tickValue = inst.tickSize > 0 ? Number((inst.tickSize * inst.pointValue).toPrecision(15)) : inst.pointValue;
  const buyPx = new Float64Array(n);
  const sellPx = new Float64Array(n);
  const buyTk = new Float64Array(n);
  const sellTk = new Float64Array(n);
  const markTk = new Float64Array(n);
  const tick = inst.tickSize;
  for (let t = 0; t < n; t++) {
    const base = bars.open[t]!;
    const h = bars.high[t]!;
    const l = bars.low[t]!;
    // SimExchange.fillOnBar for a market order
    let b = slipped(m.slippage, grid, base, "buy");
    if (b > h && base <= h) b = grid.tick > 0 ? grid.adverse(h, "sell") : h;
    let s = slipped(m.slippage, grid, base, "sell");
    if (s < l && base >= l) s = grid.tick > 0 ? grid.adverse(l, "buy") : l;
    buyPx[t] = b;
    sellPx[t] = s;
    // Account.fill / Account.unrealized
    buyTk[t] = tick > 0 ? grid.ticks(b) : b;
    sellTk[t] = tick > 0 ? grid.ticks(s) : s;
    const c = bars.close[t]!;
    markTk[t] = tick > 0 ? c / tick : c;
  }
  const lastOfSession = sessionLastBars(bars, m.calendar);
  return { bars, length: n, market: m, features: fm, grid, tickValue, buyPx, sellPx, buyTk, sellTk, markTk, lastOfSession };
}

/** 1 where bar t is the last bar of its trading session (the next bar belongs to another session, or there is none). */
export function sessionLastBars(bars: BarColumns, calendar: CalendarId): Uint8Array {
  const n = bars.length;
  const cal = calendarFor(calendar);
  const out = new Uint8Array(n);
  let prevDay = NaN;
  const day = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const s = sessionAtOrAfter(cal, bars.ts[t]!);
    day[t] = s ? s.day : prevDay;
    prevDay = day[t]!;
  }
  for (let t = 0; t < n; t++) out[t] = t + 1 >= n || day[t + 1] !== day[t] ? 1 : 0;
  return out;
}

/** Commission kind as a small integer for the hot loop (0 none, 1 per contract, 2 percent, 3 per fill) and its parameter. */
export function commissionCode(m: CommissionModel): [code: number, param: number] {
  switch (m.kind) {
    case "none":
      return [0, 0];
    case "per_contract":
      return [1, m.amount];
    case "percent":
      return [2, m.percent / 100];
    case "per_fill":
      return [3, m.amount];
  }
}
