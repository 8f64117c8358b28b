/**
 * Market-data domain types shared by the importer, the firewall, storage,
 * resampling and replay. Pure: no I/O. Times are UTC epoch milliseconds.
 */

export type InstrumentKind = "future" | "perpetual" | "spot" | "fx" | "index";

/** Which trading calendar an instrument follows (see calendar.ts). */
export type CalendarId = "cme-globex" | "24x7" | "us-equity";

export interface Instrument {
  symbol: string; // e.g. "NQ", "BTCUSDT"
  name: string;
  kind: InstrumentKind;
  tickSize: number; // minimum price increment
  pointValue: number; // currency per 1.0 price move per contract (multiplier)
  currency: string; // ISO code of the account currency effect, e.g. "USD", "USDT"
  commission: number; // default commission per side: currency per contract, or percent of notional
  commissionType: "per_contract" | "percent";
  calendar: CalendarId;
}

/** Bar sizes supported everywhere. */
export const TIMEFRAMES = ["1m", "5m", "15m", "1h", "4h", "1d"] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

export const TIMEFRAME_MS: Record<Timeframe, number> = {
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
  "4h": 14_400_000,
  "1d": 86_400_000,
};

/**
 * A series of bars in columnar typed arrays (struct of arrays). `ts` is the bar's
 * START time in UTC epoch ms (for "1d" bars: 00:00 UTC of the trading day's label date).
 * Arrays may be longer than `length`; only the first `length` entries are valid.
 */
export interface BarColumns {
  length: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export interface Bar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export function emptyBars(capacity: number): BarColumns {
  return {
    length: 0,
    ts: new Float64Array(capacity),
    open: new Float64Array(capacity),
    high: new Float64Array(capacity),
    low: new Float64Array(capacity),
    close: new Float64Array(capacity),
    volume: new Float64Array(capacity),
  };
}

export function barAt(c: BarColumns, i: number): Bar {
  return { ts: c.ts[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! };
}

/** Quote tick: best bid and ask at a time. */
export interface QuoteTick {
  ts: number;
  bid: number;
  ask: number;
}

/** Trade tick: a print. side is the aggressor when the source says so. */
export interface TradeTick {
  ts: number;
  price: number;
  size: number;
  side?: "buy" | "sell";
}
