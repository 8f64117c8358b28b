/**
 * npm run --silent data:import -- FILE --symbol NQ --timeframe 1m --tz America/New_York [--json]
 * Imports a CSV (plain or .gz) of bars (timeframe 1m…1d) or ticks (--timeframe quotes|trades).
 * With --json the last stdout line is one JSON object with the import report.
 */
import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { loadEnvOrExit } from "@/engine/runtime/env";
import { ImportError, importSeries, type SeriesTimeframe } from "@/engine/store/importer";
import { ensureBuiltinInstruments, getInstrument } from "@/engine/store/instruments";
import { openSql } from "@/engine/store/sql";
import { migrate } from "@/prisma/migrate";
import { reportToJson } from "@/server/market/report";

function fail(msg: string, code = 2): never {
  process.stderr.write(`data:import: ${msg}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { symbol: { type: "string" }, timeframe: { type: "string" }, tz: { type: "string", default: "UTC" }, json: { type: "boolean", default: false } },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (!file) fail("usage: npm run --silent data:import -- FILE --symbol SYMBOL --timeframe 1m|5m|15m|1h|4h|1d|quotes|trades [--tz ZONE] [--json]");
  if (!values.symbol) fail("--symbol is required");
  if (!values.timeframe) fail("--timeframe is required");
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    fail(`cannot read ${file}`);
  }
  const env = loadEnvOrExit("data:import");
  await migrate(env.databaseUrl);
  const sql = openSql(env.databaseUrl, { bulk: true });
  try {
    await ensureBuiltinInstruments(sql);
    const instrument = await getInstrument(sql, values.symbol.toUpperCase());
    if (!instrument) fail(`unknown symbol "${values.symbol}": add the instrument on the Markets page first`);
    const ac = new AbortController();
    process.once("SIGINT", () => ac.abort());
    process.once("SIGTERM", () => ac.abort());
    const raw = createReadStream(file, { highWaterMark: 1 << 20 });
    const source = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
    let lastPrint = 0;
    const report = await importSeries(sql, {
      instrument,
      timeframe: values.timeframe as SeriesTimeframe,
      timeZone: values.tz,
      fileName: basename(file),
      source,
      totalBytes: file.endsWith(".gz") ? undefined : size,
      signal: ac.signal,
      onProgress: (p) => {
        if (values.json || !process.stderr.isTTY || Date.now() - lastPrint < 250) return;
        lastPrint = Date.now();
        const pct = p.totalBytes ? ` ${((100 * p.bytesRead) / p.totalBytes).toFixed(0)}%` : "";
        process.stderr.write(`\r${p.rowsRead.toLocaleString()} rows${pct}`);
      },
    });
    if (!values.json && process.stderr.isTTY) process.stderr.write("\n");
    const out = reportToJson(report);
    if (values.json) {
      process.stdout.write(JSON.stringify(out) + "\n");
    } else {
      process.stdout.write(
        `${out.symbol} ${out.timeframe}: read ${out.rowsRead}, stored ${out.stored} (${out.inserted} new, ${out.unchanged} already there), quarantined ${out.quarantined}, flagged ${out.flagged}\n` +
          `span ${out.first} .. ${out.last}; gaps ${out.gaps.count} (${out.gaps.missingBars} missing bars)\n` +
          (Object.keys(out.reasons).length ? `quarantine reasons: ${JSON.stringify(out.reasons)}\n` : "") +
          (Object.keys(out.flags).length ? `flags: ${JSON.stringify(out.flags)}\n` : ""),
      );
    }
  } catch (err) {
    if (err instanceof ImportError) fail(err.message, 1);
    throw err;
  } finally {
    await sql.close();
  }
}

main().catch((err: unknown) => fail((err as Error).stack ?? String(err), 1));
