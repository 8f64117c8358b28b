/**
 * npm run bench:data
 * 1. import with full validation from an uncompressed 1M-row OHLCV CSV  (target >= 1M rows/s)
 * 2. load 1M stored bars of one series into typed arrays                (target <= 0.3 s)
 * 3. bytes per stored bar                                                (target <= 64 B)
 * Each figure is printed next to an anchor measured in the same run.
 * Data: ../shared/bench/gen_ohlcv.mjs when present, otherwise the built-in
 * deterministic generator below (a seeded random walk of 1-minute bars).
 */
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { importSeries } from "../store/importer";
import { upsertInstrument } from "../store/instruments";
import { getSeries, loadSeries } from "../store/series";
import { openSql } from "../store/sql";
import { migrate } from "../../prisma/migrate";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "tf-bench-data-"));
const csvPath = join(dir, "bars.csv");

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function builtinGenerator(rows: number): string {
  const rnd = mulberry32(42);
  const start = Date.UTC(2020, 0, 1);
  const parts: string[] = ["timestamp,open,high,low,close,volume"];
  let price = 10_000;
  const tick = 0.25;
  const snap = (p: number) => Math.round(p / tick) * tick;
  for (let i = 0; i < rows; i++) {
    const o = snap(price);
    const c = snap(o + (rnd() - 0.5) * 8);
    const h = Math.max(o, c) + snap(rnd() * 3);
    const l = Math.min(o, c) - snap(rnd() * 3);
    const v = 1 + Math.floor(rnd() * 500);
    price = c;
    const ts = new Date(start + i * 60_000).toISOString().replace("T", " ").slice(0, 19);
    parts.push(`${ts},${o.toFixed(2)},${h.toFixed(2)},${l.toFixed(2)},${c.toFixed(2)},${v}`);
  }
  return parts.join("\n") + "\n";
}

const shared = resolve(process.cwd(), "..", "shared", "bench", "gen_ohlcv.mjs");
let source = "built-in seeded generator (../shared/bench/gen_ohlcv.mjs not found)";
if (existsSync(shared)) {
  try {
    const out = execFileSync(process.execPath, [shared, String(ROWS), "42"], { maxBuffer: 1 << 30 });
    writeFileSync(csvPath, out);
    source = `../shared/bench/gen_ohlcv.mjs ${ROWS} 42`;
  } catch (err) {
    console.log(`[notice] could not run ${shared}: ${(err as Error).message.split("\n")[0]}; using the built-in generator`);
    writeFileSync(csvPath, builtinGenerator(ROWS));
  }
} else {
  console.log("[notice] ../shared/bench/gen_ohlcv.mjs not found: using the built-in generator");
  writeFileSync(csvPath, builtinGenerator(ROWS));
}
const bytes = statSync(csvPath).size;

// Anchor 1: the simplest possible parse of the same file (split + Number), no validation, no storage.
function naiveParse(): number {
  const t0 = performance.now();
  const text = readFileSync(csvPath, "utf8");
  const lines = text.split("\n");
  let sum = 0;
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.split(",");
    if (f.length < 6) continue;
    sum += Date.parse(f[0]!.replace(" ", "T") + "Z") + Number(f[1]) + Number(f[2]) + Number(f[3]) + Number(f[4]) + Number(f[5]);
  }
  if (Number.isNaN(sum)) throw new Error("naive parse failed");
  return performance.now() - t0;
}

const dbPath = join(dir, "bench.db");
const url = `file:${dbPath}`;
await migrate(url);
const sql = openSql(url, { bulk: true });
const instrument = await upsertInstrument(sql, { symbol: "BENCH", name: "benchmark series", kind: "future", tickSize: 0.25, pointValue: 1, currency: "USD", commission: 0, commissionType: "per_contract", calendar: "24x7" });

const naiveMs = naiveParse();
const t0 = performance.now();
const report = await importSeries(sql, { instrument, timeframe: "1m", timeZone: "UTC", fileName: "bars.csv", source: createReadStream(csvPath, { highWaterMark: 1 << 20 }), nowMs: Date.UTC(2100, 0, 1) });
const importMs = performance.now() - t0;
if (report.stored + report.quarantined !== report.rowsRead || report.rowsRead !== ROWS) throw new Error(`bad accounting: ${JSON.stringify(report)}`);

await sql.close();
// Loading uses an ordinary connection, as the engine and the app do.
const reader = openSql(url);
const series = (await getSeries(reader, "BENCH", "1m"))!;
const loads: number[] = [];
let loaded = 0;
for (let k = 0; k < 5; k++) {
  const l0 = performance.now();
  const cols = await loadSeries(reader, series);
  loads.push(performance.now() - l0);
  loaded = cols.length;
}
const loadMs = Math.min(...loads);
// Anchor 2: copying the same number of bytes (6 float64 columns) in memory.
const payload = new Float64Array(loaded * 6);
const c0 = performance.now();
const copy = new Float64Array(payload.length);
copy.set(payload);
const copyMs = performance.now() - c0;

const [agg] = await reader.all<{ b: number }>(`SELECT SUM(length("data")) AS "b" FROM "BarChunk" WHERE "seriesId" = ?`, [series.id]);
await reader.run("PRAGMA wal_checkpoint(TRUNCATE)");
await reader.run("VACUUM");
await reader.close();
const fileBytes = statSync(dbPath).size;
const payloadPerBar = Number(agg?.b ?? 0) / loaded;
const filePerBar = fileBytes / loaded;

const peakRssMb = process.resourceUsage().maxRSS / 1024; // whole run so far, generator included
const rate = (ROWS / importMs) * 1000;
const naiveRate = (ROWS / naiveMs) * 1000;
console.log(`data: ${source}; ${ROWS.toLocaleString()} rows, ${(bytes / 1e6).toFixed(1)} MB`);
console.log(`import with full validation (SQLite):  ${(rate / 1e6).toFixed(2)} M rows/s (${(importMs / 1000).toFixed(2)} s)   target >= 1 M rows/s   anchor: split+Number parse only ${(naiveRate / 1e6).toFixed(2)} M rows/s`);
console.log(`load ${loaded.toLocaleString()} bars into typed arrays:   ${(loadMs / 1000).toFixed(3)} s (best of 5)   target <= 0.3 s   anchor: in-memory copy of the same columns ${(copyMs / 1000).toFixed(3)} s`);
console.log(`peak resident memory of this process: ${peakRssMb.toFixed(0)} MB (file ${(bytes / 1e6).toFixed(0)} MB; includes generating it)`);
console.log(`bytes per stored bar:                 ${filePerBar.toFixed(1)} B (database file)   ${payloadPerBar.toFixed(1)} B (chunk payload)   target <= 64 B`);
console.log(JSON.stringify({ rows: ROWS, importMs: Math.round(importMs), rowsPerSec: Math.round(rate), naiveRowsPerSec: Math.round(naiveRate), loadMs: Math.round(loadMs), copyMs: Number(copyMs.toFixed(1)), fileBytesPerBar: Number(filePerBar.toFixed(1)), payloadBytesPerBar: Number(payloadPerBar.toFixed(1)), flagged: report.flagged, quarantined: report.quarantined }));
// The same import and load on PostgreSQL when a server is given (BENCH_POSTGRES_URL or TEST_POSTGRES_URL).
const pgUrl = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL;
if (pgUrl) {
  const pg = (await import("pg")).default;
  const name = `tf_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const u = new URL(pgUrl);
  u.pathname = `/${name}`;
  try {
    await migrate(u.toString());
    const psql = openSql(u.toString(), { bulk: true });
    const inst = await upsertInstrument(psql, { symbol: "BENCH", name: "benchmark series", kind: "future", tickSize: 0.25, pointValue: 1, currency: "USD", commission: 0, commissionType: "per_contract", calendar: "24x7" });
    const p0 = performance.now();
    await importSeries(psql, { instrument: inst, timeframe: "1m", timeZone: "UTC", fileName: "bars.csv", source: createReadStream(csvPath, { highWaterMark: 1 << 20 }), nowMs: Date.UTC(2100, 0, 1) });
    const pgImportMs = performance.now() - p0;
    await psql.close();
    const pread = openSql(u.toString());
    const s2 = (await getSeries(pread, "BENCH", "1m"))!;
    const pl: number[] = [];
    for (let k = 0; k < 3; k++) {
      const l0 = performance.now();
      await loadSeries(pread, s2);
      pl.push(performance.now() - l0);
    }
    await pread.close();
    console.log(`PostgreSQL: import ${((ROWS / pgImportMs) * 1000 / 1e6).toFixed(2)} M rows/s (${(pgImportMs / 1000).toFixed(2)} s); load ${(Math.min(...pl) / 1000).toFixed(3)} s (best of 3)`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
} else {
  console.log("[notice] BENCH_POSTGRES_URL / TEST_POSTGRES_URL not set: PostgreSQL figures skipped");
}
rmSync(dir, { recursive: true, force: true });
