import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { z } from "zod";
import { ImportError, TICK_TIMEFRAMES, importSeries } from "@/engine/store/importer";
import { getInstrument } from "@/engine/store/instruments";
import { openSql } from "@/engine/store/sql";
import { TIMEFRAMES } from "@/engine/data/types";
import { reportToJson } from "@/server/market/report";
import { requireUser } from "@/server/auth/route-guard";
import { getServerDeps } from "@/server/deps";

export const dynamic = "force-dynamic";

const params = z.object({
  symbol: z.string().trim().min(1, "symbol is required").transform((s) => s.toUpperCase()),
  timeframe: z.enum([...TIMEFRAMES, ...TICK_TIMEFRAMES], { message: `timeframe must be one of ${[...TIMEFRAMES, ...TICK_TIMEFRAMES].join(", ")}` }),
  tz: z.string().trim().min(1).default("UTC"),
  fileName: z.string().trim().min(1).max(255).default("upload.csv"),
});

/**
 * Upload a CSV (plain or .gz) as the raw request body; query: symbol, timeframe, tz, fileName.
 * The body is imported as it arrives (bounded memory), in one transaction.
 */
export async function POST(req: Request) {
  const guard = await requireUser("trader");
  if ("response" in guard) return guard.response;
  const parsed = params.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!parsed.success) return Response.json({ error: "invalid upload parameters", fieldErrors: z.flattenError(parsed.error).fieldErrors }, { status: 400 });
  if (!req.body) return Response.json({ error: "the request has no file body" }, { status: 400 });
  const { env } = getServerDeps();
  const sql = openSql(env.databaseUrl, { bulk: true }); // its own connection (a worker thread on SQLite): the import holds one transaction
  try {
    const instrument = await getInstrument(sql, parsed.data.symbol);
    if (!instrument) return Response.json({ error: `unknown symbol "${parsed.data.symbol}": add the instrument first` }, { status: 400 });
    const body = Readable.fromWeb(req.body as unknown as NodeReadableStream<Uint8Array>);
    const source = parsed.data.fileName.endsWith(".gz") ? body.pipe(createGunzip()) : body;
    const report = await importSeries(sql, {
      instrument,
      timeframe: parsed.data.timeframe,
      timeZone: parsed.data.tz,
      fileName: parsed.data.fileName,
      source,
      createdById: guard.user.id,
      signal: req.signal,
    });
    return Response.json(reportToJson(report));
  } catch (err) {
    if (err instanceof ImportError) return Response.json({ error: err.message }, { status: 400 });
    console.error(`[upload] ${(err as Error).message}`);
    return Response.json({ error: "import failed; nothing was stored" }, { status: 500 });
  } finally {
    await sql.close();
  }
}
