import { createReadStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os"; import { join } from "node:path";
import { importSeries } from "../store/importer"; import { upsertInstrument } from "../store/instruments"; import { openSql } from "../store/sql"; import { migrate } from "../../prisma/migrate";
const url = `file:${join(mkdtempSync(join(tmpdir(), "p-")), "b.db")}`; await migrate(url); const sql = openSql(url);
const instrument = await upsertInstrument(sql, { symbol: "B", name: "b", kind: "future", tickSize: 0.25, pointValue: 1, currency: "USD", commission: 0, commissionType: "per_contract", calendar: "24x7" });
const t0 = performance.now();
const r = await importSeries(sql, { instrument, timeframe: "1m", timeZone: "UTC", fileName: "x", source: createReadStream(process.env.CSV!, { highWaterMark: 1 << 20 }), nowMs: Date.UTC(2100,0,1) });
console.log(r.rowsRead, r.stored, r.quarantined, JSON.stringify(r.reasons), JSON.stringify(r.flags), ((performance.now()-t0)/1000).toFixed(3));
