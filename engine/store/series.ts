/**
 * Bulk storage of bar and tick series in BarChunk rows (see codec.ts), on
 * SQLite or PostgreSQL through the small Sql port. Writing merges incoming
 * sorted rows into the chunks of their time buckets inside the caller's
 * transaction; reading copies whole chunks into typed arrays.
 */
import type { SqlExec } from "./sql";
import { type Columns, FLOAT_COLUMNS, type SeriesKind, allocColumns, bucketMs, decodeChunkInto, encodeChunk } from "./codec";

export interface SeriesInfo {
  id: number;
  symbol: string;
  timeframe: string; // "1m" … "1d", or "quotes" / "trades"
  kind: SeriesKind;
  count: number;
  firstTs: number | null;
  lastTs: number | null;
}

type SeriesRow = { id: number; symbol: string; timeframe: string; kind: string; count: number; firstTs: number | string | null; lastTs: number | string | null };

function toInfo(r: SeriesRow): SeriesInfo {
  return {
    id: Number(r.id),
    symbol: r.symbol,
    timeframe: r.timeframe,
    kind: r.kind as SeriesKind,
    count: Number(r.count),
    firstTs: r.firstTs === null ? null : Number(r.firstTs),
    lastTs: r.lastTs === null ? null : Number(r.lastTs),
  };
}

export async function listSeries(db: SqlExec, symbol?: string): Promise<SeriesInfo[]> {
  const rows = symbol
    ? await db.all<SeriesRow>(`SELECT "id","symbol","timeframe","kind","count","firstTs","lastTs" FROM "Series" WHERE "symbol" = ? ORDER BY "timeframe"`, [symbol])
    : await db.all<SeriesRow>(`SELECT "id","symbol","timeframe","kind","count","firstTs","lastTs" FROM "Series" ORDER BY "symbol","timeframe"`);
  return rows.map(toInfo);
}

export async function getSeries(db: SqlExec, symbol: string, timeframe: string): Promise<SeriesInfo | undefined> {
  const rows = await db.all<SeriesRow>(`SELECT "id","symbol","timeframe","kind","count","firstTs","lastTs" FROM "Series" WHERE "symbol" = ? AND "timeframe" = ?`, [symbol, timeframe]);
  return rows[0] ? toInfo(rows[0]) : undefined;
}

export async function ensureSeries(db: SqlExec, symbol: string, timeframe: string, kind: SeriesKind): Promise<SeriesInfo> {
  const existing = await getSeries(db, symbol, timeframe);
  if (existing) {
    if (existing.kind !== kind) throw new Error(`series ${symbol} ${timeframe} holds ${existing.kind}, not ${kind}`);
    return existing;
  }
  await db.run(`INSERT INTO "Series" ("symbol","timeframe","kind","count","updatedAt") VALUES (?, ?, ?, 0, ?)`, [symbol, timeframe, kind, nowValue(db)]);
  const created = await getSeries(db, symbol, timeframe);
  if (!created) throw new Error("series insert failed");
  return created;
}

function nowValue(db: SqlExec): string | Date {
  // Prisma stores SQLite DateTime as ISO text; PostgreSQL takes a Date.
  return db.kind === "sqlite" ? new Date().toISOString() : new Date();
}

export function stepOf(timeframe: string): number | undefined {
  const m = /^(\d+)([mhd])$/.exec(timeframe);
  if (!m) return undefined;
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "m" | "h" | "d"];
}

export interface MergeOutcome {
  inserted: number;
  unchanged: number;
  /** Incoming row indices (into the merged-from Columns) that conflict with a stored row. */
  conflicts: { row: number; existing: number[] }[];
}

interface CachedBucket {
  cols: Columns;
  /** 1 where the row was stored before this writer started. */
  old: Uint8Array;
  dirty: boolean;
}

/**
 * Merges sorted rows into a series inside one transaction. Bars: one row per
 * timestamp; an incoming bar equal to the stored one (all prices and volume)
 * is "unchanged", a different one is a conflict and the stored one is kept.
 * Ticks: several rows may share a timestamp; an incoming tick identical to a
 * tick stored before this import is "unchanged", anything else is inserted.
 */
export class SeriesWriter {
  private readonly cache = new Map<number, CachedBucket>();
  private readonly width: number;
  readonly kind: SeriesKind;

  constructor(
    private readonly db: SqlExec,
    readonly series: SeriesInfo,
  ) {
    this.kind = series.kind;
    this.width = bucketMs(series.kind, stepOf(series.timeframe));
  }

  /** Buckets that exist in the store (read once), so new buckets need no round trip. */
  private existing: Set<number> | undefined;

  private async bucket(b: number): Promise<CachedBucket> {
    const hit = this.cache.get(b);
    if (hit) return hit;
    this.existing ??= new Set(
      (await this.db.all<{ bucket: number | string }>(`SELECT "bucket" FROM "BarChunk" WHERE "seriesId" = ?`, [this.series.id])).map((r) => Number(r.bucket)),
    );
    const rows = this.existing.has(b)
      ? await this.db.all<{ count: number; data: Uint8Array }>(`SELECT "count","data" FROM "BarChunk" WHERE "seriesId" = ? AND "bucket" = ?`, [this.series.id, b])
      : [];
    const row = rows[0];
    const n = row ? Number(row.count) : 0;
    const cols = allocColumns(this.kind, Math.max(16, n));
    if (row) decodeChunkInto(this.kind, row.data, n, cols, 0);
    cols.length = n;
    const entry = { cols, old: new Uint8Array(cols.f[0]!.length).fill(1), dirty: false };
    this.cache.set(b, entry);
    // Keep memory bounded: flush and drop the oldest cached buckets.
    if (this.cache.size > 64) await this.evict(8);
    return entry;
  }

  private async evict(count: number): Promise<void> {
    const keys = [...this.cache.keys()].slice(0, count);
    for (const k of keys) {
      await this.flushBucket(k);
      this.cache.delete(k);
    }
  }

  /** Merges rows [from, to) of `src` (sorted by ts, f[0] = ts). */
  async merge(src: Columns, from = 0, to = src.length): Promise<MergeOutcome> {
    const out: MergeOutcome = { inserted: 0, unchanged: 0, conflicts: [] };
    let i = from;
    const ts = src.f[0]!;
    while (i < to) {
      const b = Math.floor(ts[i]! / this.width);
      let j = i + 1;
      while (j < to && Math.floor(ts[j]! / this.width) === b) j++;
      await this.mergeBucket(b, src, i, j, out);
      i = j;
    }
    // Input is usually in time order: buckets before the last one touched are
    // done, so write them now (the write overlaps with parsing the next batch).
    if (to > from) {
      const lastBucket = Math.floor(ts[to - 1]! / this.width);
      for (const k of [...this.cache.keys()]) {
        if (k < lastBucket) {
          await this.flushBucket(k);
          this.cache.delete(k);
        }
      }
    }
    return out;
  }

  private async mergeBucket(b: number, src: Columns, from: number, to: number, out: MergeOutcome): Promise<void> {
    const entry = await this.bucket(b);
    const cur = entry.cols;
    if (this.appendOnly(entry, src, from, to)) {
      out.inserted += to - from;
      return;
    }
    const nf = cur.f.length;
    const nb = cur.b.length;
    const merged = allocColumns(this.kind, cur.length + (to - from));
    const old = new Uint8Array(merged.f[0]!.length);
    const isBars = this.kind === "bars";
    let a = 0; // index into cur
    let k = 0; // rows written
    const copyCur = () => {
      for (let c = 0; c < nf; c++) merged.f[c]![k] = cur.f[c]![a]!;
      for (let c = 0; c < nb; c++) merged.b[c]![k] = cur.b[c]![a]!;
      old[k] = entry.old[a]!;
      a++;
      k++;
    };
    const sameValues = (row: number, at: number): boolean => {
      for (let c = 1; c < nf; c++) if (!Object.is(src.f[c]![row], merged.f[c]![at])) return false;
      // The last byte column is flags (derived, may differ); compare the others (trade side).
      for (let c = 0; c < nb - 1; c++) if (src.b[c]![row] !== merged.b[c]![at]) return false;
      return true;
    };
    for (let r = from; r < to; r++) {
      const t = src.f[0]![r]!;
      while (a < cur.length && cur.f[0]![a]! <= t) copyCur();
      if (isBars) {
        if (k > 0 && merged.f[0]![k - 1] === t) {
          if (sameValues(r, k - 1)) out.unchanged++;
          else out.conflicts.push({ row: r, existing: FLOAT_COLUMNS.bars.slice(1).map((_, c) => merged.f[c + 1]![k - 1]!) });
          continue;
        }
      } else {
        // Ticks: match one stored-before tick with identical values at this ts.
        let matched = false;
        for (let q = k - 1; q >= 0 && merged.f[0]![q] === t; q--) {
          if (old[q] === 1 && sameValues(r, q)) {
            old[q] = 2; // matched once
            matched = true;
            break;
          }
        }
        if (matched) {
          out.unchanged++;
          continue;
        }
      }
      for (let c = 0; c < nf; c++) merged.f[c]![k] = src.f[c]![r]!;
      for (let c = 0; c < nb; c++) merged.b[c]![k] = src.b[c]![r]!;
      old[k] = 0;
      k++;
      out.inserted++;
    }
    while (a < cur.length) copyCur();
    merged.length = k;
    for (let q = 0; q < k; q++) if (old[q] === 2) old[q] = 1;
    entry.cols = merged;
    entry.old = old;
    entry.dirty = true;
  }

  /**
   * Fast path: incoming rows are strictly increasing and all later than the
   * bucket's last row, so they are appended with whole-column copies.
   */
  private appendOnly(entry: CachedBucket, src: Columns, from: number, to: number): boolean {
    const cur = entry.cols;
    const ts = src.f[0]!;
    const last = cur.length > 0 ? cur.f[0]![cur.length - 1]! : -Infinity;
    if (!(ts[from]! > last)) return false;
    for (let r = from + 1; r < to; r++) if (!(ts[r]! > ts[r - 1]!)) return false;
    const n = to - from;
    const need = cur.length + n;
    let cols = cur;
    let old = entry.old;
    if (need > cur.f[0]!.length) {
      const cap = Math.max(need, cur.f[0]!.length * 2);
      cols = allocColumns(this.kind, cap);
      for (let c = 0; c < cols.f.length; c++) cols.f[c]!.set(cur.f[c]!.subarray(0, cur.length));
      for (let c = 0; c < cols.b.length; c++) cols.b[c]!.set(cur.b[c]!.subarray(0, cur.length));
      old = new Uint8Array(cap);
      old.set(entry.old.subarray(0, cur.length));
      cols.length = cur.length;
    }
    for (let c = 0; c < cols.f.length; c++) cols.f[c]!.set(src.f[c]!.subarray(from, to), cols.length);
    for (let c = 0; c < cols.b.length; c++) cols.b[c]!.set(src.b[c]!.subarray(from, to), cols.length);
    old.fill(0, cols.length, need);
    cols.length = need;
    entry.cols = cols;
    entry.old = old;
    entry.dirty = true;
    return true;
  }

  private async flushBucket(b: number): Promise<void> {
    const entry = this.cache.get(b);
    if (!entry || !entry.dirty || entry.cols.length === 0) return;
    const cols = entry.cols;
    const n = cols.length;
    const data = encodeChunk(this.kind, cols, 0, n);
    await this.db.run(
      `INSERT INTO "BarChunk" ("seriesId","bucket","count","firstTs","lastTs","data") VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT ("seriesId","bucket") DO UPDATE SET "count" = excluded."count", "firstTs" = excluded."firstTs", "lastTs" = excluded."lastTs", "data" = excluded."data"`,
      [this.series.id, b, n, cols.f[0]![0]!, cols.f[0]![n - 1]!, data],
    );
    this.existing?.add(b);
    entry.dirty = false;
  }

  /** Writes every changed chunk and refreshes the series' count and span. */
  async finish(): Promise<SeriesInfo> {
    for (const k of this.cache.keys()) await this.flushBucket(k);
    this.cache.clear();
    const [agg] = await this.db.all<{ n: number | string | null; first: number | string | null; last: number | string | null }>(
      `SELECT SUM("count") AS "n", MIN("firstTs") AS "first", MAX("lastTs") AS "last" FROM "BarChunk" WHERE "seriesId" = ?`,
      [this.series.id],
    );
    const count = Number(agg?.n ?? 0);
    const first = agg?.first === null || agg?.first === undefined ? null : Number(agg.first);
    const last = agg?.last === null || agg?.last === undefined ? null : Number(agg.last);
    await this.db.run(`UPDATE "Series" SET "count" = ?, "firstTs" = ?, "lastTs" = ?, "updatedAt" = ? WHERE "id" = ?`, [count, first, last, nowValue(this.db), this.series.id]);
    return { ...this.series, count, firstTs: first, lastTs: last };
  }
}

/** Loads a whole series (or the part in [from, to]) into typed arrays. */
export async function loadSeries(db: SqlExec, series: SeriesInfo, range: { from?: number; to?: number } = {}): Promise<Columns> {
  const from = range.from ?? -Infinity;
  const to = range.to ?? Infinity;
  const params: unknown[] = [series.id];
  let where = `"seriesId" = ?`;
  if (Number.isFinite(from)) {
    where += ` AND "lastTs" >= ?`;
    params.push(from);
  }
  if (Number.isFinite(to)) {
    where += ` AND "firstTs" <= ?`;
    params.push(to);
  }
  const chunks = await db.all<{ count: number; data: Uint8Array }>(`SELECT "count","data" FROM "BarChunk" WHERE ${where} ORDER BY "bucket"`, params);
  let total = 0;
  for (const c of chunks) total += Number(c.count);
  const cols = allocColumns(series.kind, total);
  let at = 0;
  for (const c of chunks) {
    const n = Number(c.count);
    decodeChunkInto(series.kind, c.data, n, cols, at);
    at += n;
  }
  cols.length = at;
  if (!Number.isFinite(from) && !Number.isFinite(to)) return cols;
  // Trim to the range (chunks are whole buckets).
  const ts = cols.f[0]!;
  let lo = 0;
  while (lo < at && ts[lo]! < from) lo++;
  let hi = at;
  while (hi > lo && ts[hi - 1]! > to) hi--;
  if (lo === 0 && hi === at) return cols;
  return { length: hi - lo, f: cols.f.map((c) => c.subarray(lo, hi)), b: cols.b.map((c) => c.subarray(lo, hi)) };
}
