import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calendarFor } from "../data/calendar";
import { resample } from "../data/resample";
import { createTestDatabase, databaseKinds, type TestDatabase } from "@/server/testing/databases";
import { ImportError, importSeries, type ImportOptions } from "./importer";
import { ensureBuiltinInstruments, getInstrument, upsertInstrument } from "./instruments";
import { getSeries, listSeries, loadSeries } from "./series";
import { openSql, type Sql } from "./sql";

const NOW = Date.UTC(2024, 5, 1);

function source(text: string, chunk = 64): AsyncIterable<Uint8Array> {
  const buf = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
}

/** A 24x7 1-minute series starting 2024-01-01 00:00 UTC. */
function minuteCsv(n: number, start = 0, header = "timestamp,open,high,low,close,volume"): string {
  const rows = [header];
  for (let i = start; i < start + n; i++) {
    const o = 100 + (i % 7) * 0.25;
    const c = o + 0.25;
    rows.push(`${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()},${o},${c + 0.5},${o - 0.5},${c},${10 + i}`);
  }
  return rows.join("\n") + "\n";
}

// "sqlite-bulk" is SQLite through the worker-thread connection, as the CLI, the upload and the benchmark use.
const variants = [...databaseKinds(), "sqlite-bulk" as const];

describe.each(variants)("importSeries on %s", (variant) => {
  let t: TestDatabase;
  let sql: Sql;
  beforeAll(async () => {
    t = await createTestDatabase(variant === "sqlite-bulk" ? "sqlite" : variant);
    sql = openSql(t.url, { bulk: variant === "sqlite-bulk" });
    await ensureBuiltinInstruments(sql);
    await upsertInstrument(sql, { symbol: "TEST", name: "test 24x7", kind: "spot", tickSize: 0.25, pointValue: 1, currency: "USD", commission: 0, commissionType: "per_contract", calendar: "24x7" });
  });
  afterAll(async () => {
    await sql.close();
    await t.dispose();
  });

  async function run(text: string, over: Partial<ImportOptions> = {}) {
    const instrument = (await getInstrument(sql, over.instrument?.symbol ?? "TEST"))!;
    return importSeries(sql, { instrument, timeframe: "1m", timeZone: "UTC", fileName: "test.csv", source: source(text), nowMs: NOW, batchRows: 50, ...over });
  }

  it("stores every clean row, accounts for every row, and is idempotent", async () => {
    const text = minuteCsv(500);
    const first = await run(text);
    expect(first).toMatchObject({ rowsRead: 500, stored: 500, inserted: 500, unchanged: 0, quarantined: 0, gapCount: 0 });
    const again = await run(text);
    expect(again).toMatchObject({ rowsRead: 500, stored: 500, inserted: 0, unchanged: 500, quarantined: 0 });
    const series = (await getSeries(sql, "TEST", "1m"))!;
    expect(series.count).toBe(500);
    const cols = await loadSeries(sql, series);
    expect(cols.length).toBe(500);
    expect(cols.f[0]![0]).toBe(Date.UTC(2024, 0, 1));
    expect(cols.f[5]![499]).toBe(509); // volume of the last row
  });

  it("merges overlapping files and sorts out-of-order rows", async () => {
    const overlap = minuteCsv(400, 300).split("\n");
    const header = overlap.shift()!;
    const shuffled = [header, ...overlap.filter(Boolean).reverse()].join("\n");
    const r = await run(shuffled);
    expect(r).toMatchObject({ rowsRead: 400, stored: 400, inserted: 200, unchanged: 200, quarantined: 0 });
    const cols = await loadSeries(sql, (await getSeries(sql, "TEST", "1m"))!);
    expect(cols.length).toBe(700);
    for (let i = 1; i < cols.length; i++) expect(cols.f[0]![i]! - cols.f[0]![i - 1]!).toBe(60_000);
  });

  it("quarantines each firewall rule with its reason and flags what it keeps", async () => {
    const base = Date.UTC(2024, 1, 1);
    const ts = (m: number) => new Date(base + m * 60_000).toISOString();
    const rows = [
      "timestamp,open,high,low,close,volume",
      `${ts(0)},100,101,99,100.5,10`, // good
      `${ts(1)},100,101,99,100.5`, // too few fields
      `not-a-time,100,101,99,100.5,10`,
      `${ts(3)},abc,101,99,100.5,10`,
      `${ts(4)},-1,101,99,100.5,10`,
      `${ts(5)},100,99,101,100,10`, // high < low
      `${ts(6)},102,101,99,100.5,10`, // open above high
      `${ts(7)},100,101,99,98,10`, // close below low
      `${ts(8)},100,101,99,100.5,-5`,
      `${new Date(NOW + 86_400_000).toISOString()},100,101,99,100.5,10`, // future
      `${ts(0)},100,101,99,100.75,10`, // conflicts with the first row
      `${ts(0)},100,101,99,100.5,10`, // identical duplicate: already stored
      `${ts(11)},100,101,99,100.5,0`, // zero volume: flagged
      `${ts(12)},100.1,101,99,100.5,3`, // off the 0.25 grid: flagged
    ];
    const r = await run(rows.join("\n"), { batchRows: 4 });
    expect(r.rowsRead).toBe(14);
    expect(r.stored + r.quarantined).toBe(r.rowsRead);
    expect(r.reasons).toEqual({
      unparsable_row: 2,
      unparsable_timestamp: 1,
      non_positive_price: 1,
      high_below_low: 1,
      open_outside_range: 1,
      close_outside_range: 1,
      negative_volume: 1,
      future_timestamp: 1,
      duplicate_conflict: 1,
    });
    expect(r.stored).toBe(4);
    expect(r.unchanged).toBe(1);
    expect(r.flags).toMatchObject({ zero_volume: 1, off_tick: 1 });
    const q = await sql.all<{ line: number; reason: string; raw: string; detail: string }>(`SELECT "line","reason","raw","detail" FROM "QuarantineRow" WHERE "importId" = ? ORDER BY "line"`, [r.id]);
    expect(q).toHaveLength(10);
    expect(q.find((x) => x.reason === "high_below_low")).toMatchObject({ line: 7, raw: rows[6] });
    expect(q.find((x) => x.reason === "duplicate_conflict")?.detail).toMatch(/already stored with different values/);
    const stored = await loadSeries(sql, (await getSeries(sql, "TEST", "1m"))!, { from: base, to: base + 3_600_000 });
    expect(stored.f[4]![0]).toBe(100.5); // the stored bar was kept, not overwritten
  });

  it("reports gaps against the trading calendar", async () => {
    const rows = minuteCsv(30, 10_000).split("\n").filter(Boolean);
    rows.splice(10, 5); // drop 5 minutes
    const r = await run(rows.join("\n"));
    expect(r.gapCount).toBe(1);
    expect(r.missingBars).toBe(5);
  });

  it("refuses bad input before anything is written, naming the problem", async () => {
    const before = await listSeries(sql);
    await expect(run("foo,bar\n1,2\n")).rejects.toThrow(/no recognizable header/);
    await expect(run(minuteCsv(5), { timeZone: "Mars/Olympus" })).rejects.toThrow(/Mars\/Olympus/);
    await expect(run(minuteCsv(20), { timeframe: "5m", instrument: (await getInstrument(sql, "BTCUSDT"))! })).rejects.toThrow(/timeframe 5m does not match the timestamps: the rows are 1m apart/);
    expect(await listSeries(sql)).toEqual(before);
    expect(await getSeries(sql, "BTCUSDT", "5m")).toBeUndefined();
  });

  it("leaves the store exactly as it was when an import is interrupted", async () => {
    const series = (await getSeries(sql, "TEST", "1m"))!;
    const before = await loadSeries(sql, series);
    const reportsBefore = await sql.all(`SELECT "id" FROM "ImportReport"`);
    async function* explode() {
      yield Buffer.from(minuteCsv(300, 20_000));
      throw new Error("disk unplugged");
    }
    const instrument = (await getInstrument(sql, "TEST"))!;
    await expect(importSeries(sql, { instrument, timeframe: "1m", timeZone: "UTC", fileName: "x.csv", source: explode(), nowMs: NOW, batchRows: 50 })).rejects.toThrow(/disk unplugged/);
    const ac = new AbortController();
    let fed = 0;
    async function* slow() {
      for (let i = 0; i < 10; i++) {
        yield Buffer.from(minuteCsv(100, 30_000 + i * 100, i === 0 ? "timestamp,open,high,low,close,volume" : "").replace(/^\n/, ""));
        if (++fed === 3) ac.abort();
      }
    }
    await expect(importSeries(sql, { instrument, timeframe: "1m", timeZone: "UTC", fileName: "y.csv", source: slow(), nowMs: NOW, batchRows: 50, signal: ac.signal })).rejects.toThrow(/cancelled/);
    const after = await loadSeries(sql, (await getSeries(sql, "TEST", "1m"))!);
    expect(after.length).toBe(before.length);
    expect(Array.from(after.f[0]!.subarray(0, after.length))).toEqual(Array.from(before.f[0]!.subarray(0, before.length)));
    expect(await sql.all(`SELECT "id" FROM "ImportReport"`)).toHaveLength(reportsBefore.length);
  });

  it("imports quote and trade ticks, idempotently", async () => {
    const quotes = "timestamp,bid,ask\n2024-01-02T00:00:00.000Z,1.1,1.2\n2024-01-02T00:00:00.000Z,1.1,1.2\n2024-01-02T00:00:00.500Z,1.15,1.1\n";
    const q1 = await run(quotes, { timeframe: "quotes" });
    expect(q1).toMatchObject({ rowsRead: 3, stored: 2, inserted: 2, quarantined: 1, reasons: { high_below_low: 1 } });
    const q2 = await run(quotes, { timeframe: "quotes" });
    expect(q2).toMatchObject({ rowsRead: 3, stored: 2, inserted: 0, unchanged: 2, quarantined: 1 });
    const trades = "time,price,qty,side\n1704153600000,42000.5,0.1,buy\n1704153600000,42000.5,0.1,buy\n1704153601000,41999,0.2,sell\n";
    const t1 = await run(trades, { timeframe: "trades" });
    expect(t1).toMatchObject({ rowsRead: 3, stored: 3, inserted: 3 });
    const t2 = await run(trades, { timeframe: "trades" });
    expect(t2).toMatchObject({ stored: 3, inserted: 0, unchanged: 3 });
    const cols = await loadSeries(sql, (await getSeries(sql, "TEST", "trades"))!);
    expect(cols.length).toBe(3);
    expect(Array.from(cols.b[0]!.subarray(0, 3)).map((x) => (x << 24) >> 24)).toEqual([1, 1, -1]);
  });

  it("resamples stored bars into sessions (no bars invented)", async () => {
    const cols = await loadSeries(sql, (await getSeries(sql, "TEST", "1m"))!, { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 1, 11, 39) });
    const bars = { length: cols.length, ts: cols.f[0]!, open: cols.f[1]!, high: cols.f[2]!, low: cols.f[3]!, close: cols.f[4]!, volume: cols.f[5]! };
    const h = resample(bars, "1m", "1h", calendarFor("24x7"));
    expect(h.length).toBe(12); // 700 minutes = 11 h 40 min
    expect(h.volume[0]).toBe(Array.from({ length: 60 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0));
  });
});
