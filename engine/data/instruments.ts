/**
 * Built-in instruments. Users edit them and add their own on the Markets page;
 * these are inserted when missing, never overwritten.
 */
import type { CalendarId, Instrument, InstrumentKind } from "./types";

export const INSTRUMENT_KINDS: readonly InstrumentKind[] = ["future", "perpetual", "spot", "fx", "index"];
export const CALENDAR_IDS: readonly CalendarId[] = ["cme-globex", "24x7", "us-equity"];

export const BUILTIN_INSTRUMENTS: readonly Instrument[] = [
  { symbol: "NQ", name: "E-mini Nasdaq-100 futures (CME)", kind: "future", tickSize: 0.25, pointValue: 20, currency: "USD", commission: 2.25, commissionType: "per_contract", calendar: "cme-globex" },
  { symbol: "MNQ", name: "Micro E-mini Nasdaq-100 futures (CME)", kind: "future", tickSize: 0.25, pointValue: 2, currency: "USD", commission: 0.62, commissionType: "per_contract", calendar: "cme-globex" },
  { symbol: "ES", name: "E-mini S&P 500 futures (CME)", kind: "future", tickSize: 0.25, pointValue: 50, currency: "USD", commission: 2.25, commissionType: "per_contract", calendar: "cme-globex" },
  { symbol: "MES", name: "Micro E-mini S&P 500 futures (CME)", kind: "future", tickSize: 0.25, pointValue: 5, currency: "USD", commission: 0.62, commissionType: "per_contract", calendar: "cme-globex" },
  { symbol: "6E", name: "Euro FX futures (CME)", kind: "future", tickSize: 0.00005, pointValue: 125_000, currency: "USD", commission: 2.25, commissionType: "per_contract", calendar: "cme-globex" },
  { symbol: "BTCUSDT", name: "Bitcoin / Tether spot (Binance)", kind: "spot", tickSize: 0.01, pointValue: 1, currency: "USDT", commission: 0.1, commissionType: "percent", calendar: "24x7" },
  { symbol: "BTC-PERP", name: "Bitcoin perpetual swap (USDT-margined)", kind: "perpetual", tickSize: 0.1, pointValue: 1, currency: "USDT", commission: 0.05, commissionType: "percent", calendar: "24x7" },
  { symbol: "SPX", name: "S&P 500 index (daily, demo data)", kind: "index", tickSize: 0.000001, pointValue: 1, currency: "USD", commission: 0, commissionType: "per_contract", calendar: "us-equity" },
];

/** Symbols: upper-case letters, digits, dot, dash, underscore; 1-32 characters. */
export const SYMBOL_PATTERN = /^[A-Z0-9][A-Z0-9._-]{0,31}$/;
