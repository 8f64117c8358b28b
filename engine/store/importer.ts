/**
 * Imports a CSV stream (bars, quote ticks or trade ticks) into the store:
 * parse -> firewall -> merge, all inside ONE database transaction, so an
 * error, a crash or Ctrl-C leaves the store exactly as it was. Every row read
 * is either stored (inserted, or already there unchanged) or quarantined with
 * a reason: rowsRead = stored + quarantined, always. Memory stays bounded:
 * rows flow in batches and only a few chunks are cached.
 */
import { randomUUID } from "node:crypto";
import { calendarFor, findGaps, type Gap } from "../data/calendar";
import { CsvFormatError, type ParsedBatch, parseCsv, validateTimeZone } from "../data/csv";
import { FLAGS, type QuarantineReason, type QuarantinedRow, flagCounts } from "../data/firewall";
import { type ScreenedBars, screenedBars } from "./bar-pipeline";
import { TIMEFRAMES, type Instrument, type Timeframe } from "../data/types";
import { allocColumns, type Columns, type SeriesKind } from "./codec";
import { SeriesWriter, ensureSeries, loadSeries, stepOf } from "./series";
import type { Sql, SqlExec } from "./sql";

export const TICK_TIMEFRAMES = ["quotes", "trades"] as const;
export type SeriesTimeframe = Timeframe | (typeof TICK_TIMEFRAMES)[number];

export class ImportError extends Error {
  override name = "ImportError";
}

export interface ImportProgress {
  bytesRead: number;
  totalBytes?: number;
  rowsRead: number;
  stored: number;
  quarantined: number;
}

export interface ImportOptions {
  instrument: Instrument;
  timeframe: SeriesTimeframe;
  timeZone: string;
  fileName: string;
  source: AsyncIterable<Uint8Array>;
  totalBytes?: number;
  nowMs?: number;
  createdById?: string | null;
  batchRows?: number;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportReport {
  id: string;
  symbol: string;
  timeframe: string;
  kind: SeriesKind;
  fileName: string;
  timeZone: string;
  rowsRead: number;
  stored: number;
  inserted: number;
  unchanged: number;
  quarantined: number;
  flagged: number;
  reasons: Partial<Record<QuarantineReason, number>>;
  flags: Record<string, number>;
  firstTs: number | null;
  lastTs: number | null;
  gaps: Gap[];
  gapCount: number;
  missingBars: number;
  seriesCount: number;
}

function kindOf(timeframe: SeriesTimeframe): SeriesKind {
  return timeframe === "quotes" ? "quotes" : timeframe === "trades" ? "trades" : "bars";
}

function isoOrNull(ts: number | null): string | null {
  return ts === null ? null : new Date(ts).toISOString();
}

/** Median spacing of sorted, distinct timestamps; used to check the declared timeframe. */
function medianSpacing(ts: Float64Array, n: number): number | undefined {
  const sorted = Array.from(ts.subarray(0, n)).sort((a, b) => a - b);
  const d: number[] = [];
  for (let i = 1; i < sorted.length; i++) if (sorted[i]! > sorted[i - 1]!) d.push(sorted[i]! - sorted[i - 1]!);
  if (d.length < 3) return undefined;
  d.sort((a, b) => a - b);
  return d[d.length >> 1];
}

function checkTimeframe(timeframe: Timeframe, ts: Float64Array, n: number): void {
  const step = stepOf(timeframe)!;
  const med = medianSpacing(ts, n);
  if (med === undefined) return;
  const ok = timeframe === "1d" ? med >= 86_400_000 && med <= 4 * 86_400_000 : med === step;
  if (!ok) {
    const human = med % 86_400_000 === 0 ? `${med / 86_400_000}d` : med % 3_600_000 === 0 ? `${med / 3_600_000}h` : med % 60_000 === 0 ? `${med / 60_000}m` : `${med / 1000}s`;
    throw new ImportError(`timeframe ${timeframe} does not match the timestamps: the rows are ${human} apart (median of the first ${n} rows)`);
  }
}

export async function importSeries(sql: Sql, opts: ImportOptions): Promise<ImportReport> {
  const { instrument } = opts;
  if (![...TIMEFRAMES, ...TICK_TIMEFRAMES].includes(opts.timeframe)) throw new ImportError(`unknown timeframe "${opts.timeframe}" (expected ${[...TIMEFRAMES, ...TICK_TIMEFRAMES].join(", ")})`);
  try {
    validateTimeZone(opts.timeZone);
  } catch (err) {
    throw new ImportError((err as Error).message);
  }
  const kind = kindOf(opts.timeframe);
  const calendar = calendarFor(instrument.calendar);
  const nowMs = opts.nowMs ?? Date.now();
  const id = randomUUID();
  const startedAt = new Date();

  return sql.tx(async (t) => {
    const series = await ensureSeries(t, instrument.symbol, opts.timeframe, kind);
    const writer = new SeriesWriter(t, series);
    const reasons: Partial<Record<QuarantineReason, number>> = {};
    const flags: Record<string, number> = {};
    let rowsRead = 0;
    let inserted = 0;
    let unchanged = 0;
    let quarantined = 0;
    let flagged = 0;
    let firstTs: number | null = null;
    let lastTs: number | null = null;
    let first = true;
    const gapStep = kind === "bars" ? stepOf(opts.timeframe) : undefined;
    let prevTs: number | null = null;
    let disorder = false;
    let gaps: Gap[] = [];
    let gapCount = 0;
    let missingBars = 0;
    const pending: QuarantinedRow[] = [];
    const quarantine = async (rows: QuarantinedRow[]) => {
      for (const r of rows) {
        reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
        pending.push(r);
      }
      quarantined += rows.length;
      if (pending.length >= 500) await flushQuarantine(t, id, instrument.symbol, pending.splice(0));
    };

    const onBars = async (sb: ScreenedBars) => {
      rowsRead += sb.rowsRead;
      await quarantine(sb.quarantined);
      const m = sb.m;
      if (first) checkTimeframe(opts.timeframe as Timeframe, sb.ts, m);
      const cols: Columns = { length: m, f: [sb.ts, sb.open, sb.high, sb.low, sb.close, sb.volume], b: [sb.flags] };
      const dTs = sb.ts;
      const res = await writer.merge(cols);
      inserted += res.inserted;
      unchanged += res.unchanged;
      if (res.conflicts.length > 0) {
        const conflictRows = new Set(res.conflicts.map((c) => c.row));
        const raws = await sb.raw(res.conflicts.map((c) => c.row));
        await quarantine(
          res.conflicts.map((c, k) => ({
            line: sb.lines[c.row]!,
            raw: raws[k]!,
            reason: "duplicate_conflict" as const,
            detail: `a bar at ${new Date(dTs[c.row]!).toISOString()} is already stored with different values (o/h/l/c/v ${c.existing.join("/")})`,
          })),
        );
        const kept = new Uint8Array(m);
        for (let k = 0; k < m; k++) kept[k] = conflictRows.has(k) ? 0 : sb.flags[k]!;
        flagged += flagCounts(kept, flags);
      } else {
        flagged += flagCounts(sb.flags, flags);
      }
      if (m > 0 && gapStep !== undefined) {
        // Gaps are found batch by batch (with the previous batch's last bar
        // prepended); out-of-order batches fall back to a scan of the store.
        if (prevTs !== null && dTs[0]! < prevTs) disorder = true;
        if (!disorder) {
          const span = new Float64Array(m + 1);
          let off = 0;
          if (prevTs !== null) span[off++] = prevTs;
          span.set(dTs.subarray(0, m), off);
          for (const g of findGaps(span, off + m, gapStep, calendar, 100_000)) {
            gapCount++;
            missingBars += g.missingBars;
            if (gaps.length < 200) gaps.push(g);
          }
          prevTs = dTs[m - 1]!;
        }
      }
      if (m > 0) {
        if (firstTs === null || dTs[0]! < firstTs) firstTs = dTs[0]!;
        if (lastTs === null || dTs[m - 1]! > lastTs) lastTs = dTs[m - 1]!;
      }
      first = false;
      opts.onProgress?.({ bytesRead: sb.bytesRead, totalBytes: opts.totalBytes, rowsRead, stored: inserted + unchanged, quarantined });
    };

    try {
      if (kind === "bars") {
        const parse = { timeZone: opts.timeZone, batchRows: opts.batchRows };
        const screen = { tickSize: instrument.tickSize, calendar: instrument.calendar, nowMs, daily: opts.timeframe === "1d" };
        for await (const sb of screenedBars(opts.source, parse, screen)) {
          if (opts.signal?.aborted) throw new ImportError("import cancelled; nothing was stored");
          await onBars(sb);
        }
      } else {
        for await (const batch of parseCsv(opts.source, { timeZone: opts.timeZone, kind, batchRows: opts.batchRows })) {
          if (opts.signal?.aborted) throw new ImportError("import cancelled; nothing was stored");
          if (batch.kind === "bars") throw new ImportError(`the file holds bars, but timeframe ${opts.timeframe} expects ${kind}`);
          rowsRead += batch.length + batch.rejected.length;
          await quarantine(batch.rejected.map((r) => ({ line: r.line, raw: r.raw, reason: r.reason, detail: r.detail })));
          const res = await mergeTicks(writer, batch, nowMs, quarantine);
          inserted += res.inserted;
          unchanged += res.unchanged;
          if (res.firstTs !== null && (firstTs === null || res.firstTs < firstTs)) firstTs = res.firstTs;
          if (res.lastTs !== null && (lastTs === null || res.lastTs > lastTs)) lastTs = res.lastTs;
          opts.onProgress?.({ bytesRead: batch.bytesRead, totalBytes: opts.totalBytes, rowsRead, stored: inserted + unchanged, quarantined });
        }
      }
    } catch (err) {
      if (err instanceof CsvFormatError) throw new ImportError(err.message);
      throw err;
    }
    if (opts.signal?.aborted) throw new ImportError("import cancelled; nothing was stored");
    if (pending.length > 0) await flushQuarantine(t, id, instrument.symbol, pending.splice(0));
    const info = await writer.finish();

    // Gaps against the trading calendar over this import's span (see above).
    if (disorder && gapStep !== undefined && firstTs !== null && lastTs !== null) {
      gaps = [];
      gapCount = 0;
      missingBars = 0;
      const step = gapStep;
      const loaded = await loadSeries(t, info, { from: firstTs, to: lastTs });
      const all = findGaps(loaded.f[0]!, loaded.length, step, calendar, 100_000);
      gapCount = all.length;
      for (const g of all) missingBars += g.missingBars;
      gaps = all.slice(0, 200);
    }
    const stored = inserted + unchanged;
    if (stored + quarantined !== rowsRead) throw new Error(`accounting error: read ${rowsRead}, stored ${stored}, quarantined ${quarantined}`);
    const report: ImportReport = {
      id,
      symbol: instrument.symbol,
      timeframe: opts.timeframe,
      kind,
      fileName: opts.fileName,
      timeZone: opts.timeZone,
      rowsRead,
      stored,
      inserted,
      unchanged,
      quarantined,
      flagged,
      reasons,
      flags,
      firstTs,
      lastTs,
      gaps,
      gapCount,
      missingBars,
      seriesCount: info.count,
    };
    await t.run(
      `INSERT INTO "ImportReport" ("id","symbol","timeframe","kind","fileName","timeZone","status","rowsRead","stored","inserted","unchanged","quarantined","flagged","reasons","flags","gaps","firstTs","lastTs","startedAt","finishedAt","createdById")
       VALUES (?, ?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id, instrument.symbol, opts.timeframe, kind, opts.fileName, opts.timeZone, rowsRead, stored, inserted, unchanged, quarantined, flagged,
        JSON.stringify(reasons), JSON.stringify(flags), JSON.stringify({ count: gapCount, missingBars, first: gaps }),
        firstTs, lastTs, dateValue(t, startedAt), dateValue(t, new Date()), opts.createdById ?? null,
      ],
    );
    return report;
  });
}

function dateValue(t: SqlExec, d: Date): string | Date {
  return t.kind === "sqlite" ? d.toISOString() : d;
}

async function flushQuarantine(t: SqlExec, importId: string, symbol: string, rows: QuarantinedRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) {
    const part = rows.slice(i, i + 100);
    const values = part.map(() => "(?, ?, ?, ?, ?, ?)").join(", ");
    const params: unknown[] = [];
    for (const r of part) params.push(importId, symbol, r.line, r.raw, r.reason, r.detail);
    await t.run(`INSERT INTO "QuarantineRow" ("importId","symbol","line","raw","reason","detail") VALUES ${values}`, params);
  }
}

async function mergeTicks(
  writer: SeriesWriter,
  batch: Exclude<ParsedBatch, { kind: "bars" }>,
  nowMs: number,
  quarantine: (rows: QuarantinedRow[]) => Promise<void>,
): Promise<{ inserted: number; unchanged: number; firstTs: number | null; lastTs: number | null }> {
  const n = batch.length;
  const bad: QuarantinedRow[] = [];
  const ok: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = batch.ts[i]!;
    const a = batch.kind === "quotes" ? batch.bid[i]! : batch.price[i]!;
    const b = batch.kind === "quotes" ? batch.ask[i]! : batch.size[i]!;
    let reason: QuarantineReason | undefined;
    let detail = "";
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      reason = "non_finite_price";
      detail = `values must be finite: ${a}, ${b}`;
    } else if (batch.kind === "quotes" && !(a > 0 && b > 0)) {
      reason = "non_positive_price";
      detail = `bid and ask must be positive: bid=${a} ask=${b}`;
    } else if (batch.kind === "quotes" && b < a) {
      reason = "high_below_low";
      detail = `ask ${b} is below bid ${a} (crossed quote)`;
    } else if (batch.kind === "trades" && !(a > 0)) {
      reason = "non_positive_price";
      detail = `price must be positive: ${a}`;
    } else if (batch.kind === "trades" && b < 0) {
      reason = "negative_volume";
      detail = `size must be zero or more: ${b}`;
    } else if (t > nowMs) {
      reason = "future_timestamp";
      detail = `timestamp ${new Date(t).toISOString()} is in the future`;
    }
    if (reason) bad.push({ line: batch.lines[i]!, raw: batch.raw(i), reason, detail });
    else ok.push(i);
  }
  await quarantine(bad);
  ok.sort((x, y) => batch.ts[x]! - batch.ts[y]! || x - y);
  const cols: Columns = allocColumns(batch.kind, ok.length);
  for (let k = 0; k < ok.length; k++) {
    const i = ok[k]!;
    cols.f[0]![k] = batch.ts[i]!;
    if (batch.kind === "quotes") {
      cols.f[1]![k] = batch.bid[i]!;
      cols.f[2]![k] = batch.ask[i]!;
      cols.b[0]![k] = 0;
    } else {
      cols.f[1]![k] = batch.price[i]!;
      cols.f[2]![k] = batch.size[i]!;
      cols.b[0]![k] = batch.side[i]! & 0xff;
      cols.b[1]![k] = batch.size[i] === 0 ? FLAGS.zero_volume : 0;
    }
  }
  cols.length = ok.length;
  const res = await writer.merge(cols);
  return { inserted: res.inserted, unchanged: res.unchanged, firstTs: ok.length ? cols.f[0]![0]! : null, lastTs: ok.length ? cols.f[0]![ok.length - 1]! : null };
}

export { isoOrNull };
