/**
 * Bars of a stored series at any timeframe: the stored series itself, or the
 * finest stored one that divides it, resampled session-aware.
 */
import { calendarFor } from "../data/calendar";
import { resample } from "../data/resample";
import { type BarColumns, TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from "../data/types";
import { getInstrument, type InstrumentRecord } from "./instruments";
import { listSeries, loadSeries } from "./series";
import type { SqlExec } from "./sql";

export async function loadStoredBars(db: SqlExec, symbol: string, timeframe: Timeframe, range: { from?: number; to?: number } = {}): Promise<{ bars: BarColumns; instrument: InstrumentRecord; sourceTimeframe: Timeframe }> {
  const instrument = await getInstrument(db, symbol);
  if (!instrument) throw new Error(`unknown symbol ${symbol}`);
  const stored = (await listSeries(db, symbol)).filter((s) => s.kind === "bars" && s.count > 0 && (TIMEFRAMES as readonly string[]).includes(s.timeframe));
  const wanted = TIMEFRAME_MS[timeframe];
  const source =
    stored.find((s) => s.timeframe === timeframe) ??
    stored
      .filter((s) => TIMEFRAME_MS[s.timeframe as Timeframe] < wanted && wanted % TIMEFRAME_MS[s.timeframe as Timeframe] === 0)
      .sort((a, b) => TIMEFRAME_MS[b.timeframe as Timeframe] - TIMEFRAME_MS[a.timeframe as Timeframe])[0];
  if (!source) throw new Error(`no stored bars for ${symbol} at ${timeframe} or finer (stored: ${stored.map((s) => s.timeframe).join(", ") || "none"})`);
  // widen the load by one bar of the target timeframe so resampled edge bars are whole
  const cols = await loadSeries(db, source, { from: range.from !== undefined ? range.from - wanted : undefined, to: range.to !== undefined ? range.to + wanted : undefined });
  let bars: BarColumns = { length: cols.length, ts: cols.f[0]!, open: cols.f[1]!, high: cols.f[2]!, low: cols.f[3]!, close: cols.f[4]!, volume: cols.f[5]! };
  if (source.timeframe !== timeframe) bars = resample(bars, source.timeframe as Timeframe, timeframe, calendarFor(instrument.calendar));
  return { bars, instrument, sourceTimeframe: source.timeframe as Timeframe };
}
