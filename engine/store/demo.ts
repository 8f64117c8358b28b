/**
 * Demo data for a fresh installation: the S&P 500 daily bars (2000-2020) that
 * ship in the vega-datasets npm package (BSD-3-Clause), imported through the
 * same importer and firewall as any user file, once, as symbol SPX.
 */
import { createReadStream, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { importSeries, type ImportReport } from "./importer";
import { ensureBuiltinInstruments, getInstrument } from "./instruments";
import { getSeries } from "./series";
import type { Sql } from "./sql";

export function demoFile(): string | undefined {
  try {
    // The package's "exports" hide data files from require.resolve, so locate its entry point.
    const entry = createRequire(import.meta.url).resolve("vega-datasets");
    const path = join(dirname(entry), "..", "data", "sp500-2000.csv");
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Imports the demo series if it is not stored yet. Returns the report, or undefined when nothing was done. */
export async function ensureDemoData(sql: Sql): Promise<ImportReport | undefined> {
  await ensureBuiltinInstruments(sql);
  const existing = await getSeries(sql, "SPX", "1d");
  if (existing && existing.count > 0) return undefined;
  const file = demoFile();
  if (!file) throw new Error("demo data not found: the vega-datasets package is missing (run npm install)");
  const instrument = await getInstrument(sql, "SPX");
  if (!instrument) throw new Error("instrument SPX is missing");
  return importSeries(sql, { instrument, timeframe: "1d", timeZone: "UTC", fileName: "vega-datasets/data/sp500-2000.csv", source: createReadStream(file) });
}
