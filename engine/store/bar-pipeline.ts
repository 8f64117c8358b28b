/**
 * Parse + firewall for bar files, as a stream of screened batches: accepted
 * rows sorted by time in columns, their flags and line numbers, and the
 * quarantined rows. (Parsing on a second worker thread was measured and did
 * not pay off on two cores: the writer thread already uses the other core.)
 */
import type { TradingCalendar } from "../data/calendar";
import { calendarFor } from "../data/calendar";
import { type BarBatch, CsvFormatError, type ParseOptions, parseCsv } from "../data/csv";
import { JumpDetector, type QuarantinedRow, screenBars } from "../data/firewall";
import type { CalendarId } from "../data/types";

export interface ScreenOptions {
  tickSize: number;
  calendar: CalendarId;
  nowMs: number;
  daily: boolean;
  /** Compute flags (default true); see FirewallOptions.flags. */
  flags?: boolean;
}

export interface ScreenedBars {
  /** Data rows read in this batch (accepted + quarantined). */
  rowsRead: number;
  bytesRead: number;
  quarantined: QuarantinedRow[];
  /** Accepted rows, sorted by time. */
  m: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  flags: Uint8Array;
  lines: Int32Array;
  /** Raw text of accepted rows k (indices into the sorted columns). */
  raw(ks: number[]): Promise<string[]>;
}

export function screenBatch(batch: BarBatch, opts: ScreenOptions, cal: TradingCalendar, jumps: JumpDetector): Omit<ScreenedBars, "raw"> & { order: Int32Array } {
  const s = screenBars(batch.bars, batch.lines, (i) => batch.raw(i), { tickSize: opts.tickSize, calendar: cal, nowMs: opts.nowMs, daily: opts.daily, flags: opts.flags }, jumps);
  const m = s.order.length;
  const b = batch.bars;
  const quarantined = batch.rejected.map((r) => ({ line: r.line, raw: r.raw, reason: r.reason, detail: r.detail }) as QuarantinedRow).concat(s.quarantined);
  const base = { rowsRead: b.length + batch.rejected.length, bytesRead: batch.bytesRead, quarantined, m, flags: s.flags, order: s.order };
  if (s.identity) {
    return { ...base, ts: b.ts.subarray(0, m), open: b.open.subarray(0, m), high: b.high.subarray(0, m), low: b.low.subarray(0, m), close: b.close.subarray(0, m), volume: b.volume.subarray(0, m), lines: batch.lines.subarray(0, m) };
  }
  const ts = new Float64Array(m), open = new Float64Array(m), high = new Float64Array(m), low = new Float64Array(m), close = new Float64Array(m), volume = new Float64Array(m);
  const lines = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const i = s.order[k]!;
    ts[k] = b.ts[i]!;
    open[k] = b.open[i]!;
    high[k] = b.high[i]!;
    low[k] = b.low[i]!;
    close[k] = b.close[i]!;
    volume[k] = b.volume[i]!;
    lines[k] = batch.lines[i]!;
  }
  return { ...base, ts, open, high, low, close, volume, lines };
}

export async function* screenedBars(source: AsyncIterable<Uint8Array>, parse: ParseOptions, opts: ScreenOptions): AsyncGenerator<ScreenedBars> {
  const cal = calendarFor(opts.calendar);
  const jumps = new JumpDetector();
  for await (const batch of parseCsv(source, { ...parse, kind: "bars" })) {
    if (batch.kind !== "bars") throw new CsvFormatError(`expected bars, found ${batch.kind}`);
    const s = screenBatch(batch, opts, cal, jumps);
    yield { ...s, raw: async (ks) => ks.map((k) => batch.raw(s.order[k]!)) };
  }
}
