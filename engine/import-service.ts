/**
 * POST /import on the engine: the request body is a CSV (plain, or gzip when
 * fileName ends in .gz) imported as it streams in, in one transaction, with
 * progress events on the engine stream ("import.progress"). The web app's
 * upload route forwards browser uploads here, so heavy imports never block
 * the web server. Query: symbol, timeframe, tz, fileName, uploadId, userId.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createGunzip } from "node:zlib";
import type { Logger } from "pino";
import { z } from "zod";
import { TIMEFRAMES } from "./data/types";
import type { EventBus } from "./events";
import { ImportError, TICK_TIMEFRAMES, importSeries, type ImportReport } from "./store/importer";
import { getInstrument } from "./store/instruments";
import { openSql } from "./store/sql";

const query = z.object({
  symbol: z.string().trim().min(1, "symbol is required").transform((s) => s.toUpperCase()),
  timeframe: z.enum([...TIMEFRAMES, ...TICK_TIMEFRAMES], { message: `timeframe must be one of ${[...TIMEFRAMES, ...TICK_TIMEFRAMES].join(", ")}` }),
  tz: z.string().trim().min(1).default("UTC"),
  fileName: z.string().trim().min(1).max(255).default("upload.csv"),
  uploadId: z.string().trim().min(1).max(100).default("upload"),
  userId: z.string().max(100).optional(),
});

export function importRoute(databaseUrl: string, bus: EventBus, logger: Logger, onReport?: (r: ImportReport) => void) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    const parsed = query.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) {
      req.resume();
      return send(400, { error: "invalid import parameters", fieldErrors: z.flattenError(parsed.error).fieldErrors });
    }
    const q = parsed.data;
    const totalBytes = Number(req.headers["x-upload-length"] ?? req.headers["content-length"] ?? NaN);
    const sql = openSql(databaseUrl, { bulk: true }); // its own connection for the import's transaction
    const ac = new AbortController();
    req.on("aborted", () => ac.abort());
    res.on("close", () => {
      if (!res.writableFinished) ac.abort();
    });
    let lastEvent = 0;
    const progress = (p: { bytesRead: number; rowsRead: number; stored: number; quarantined: number }, done: boolean, error: string | null = null) =>
      bus.publish({
        type: "import.progress",
        data: { uploadId: q.uploadId, symbol: q.symbol, timeframe: q.timeframe, fileName: q.fileName, totalBytes: Number.isFinite(totalBytes) ? totalBytes : null, done, error, ...p },
      });
    try {
      const instrument = await getInstrument(sql, q.symbol);
      if (!instrument) {
        req.resume();
        return send(400, { error: `unknown symbol "${q.symbol}": add the instrument first` });
      }
      const source = q.fileName.endsWith(".gz") ? req.pipe(createGunzip()) : req;
      const report = await importSeries(sql, {
        instrument,
        timeframe: q.timeframe,
        timeZone: q.tz,
        fileName: q.fileName,
        source,
        totalBytes: Number.isFinite(totalBytes) ? totalBytes : undefined,
        createdById: q.userId ?? null,
        signal: ac.signal,
        onProgress: (p) => {
          if (Date.now() - lastEvent < 200) return;
          lastEvent = Date.now();
          progress(p, false);
        },
      });
      progress({ bytesRead: Number.isFinite(totalBytes) ? totalBytes : 0, rowsRead: report.rowsRead, stored: report.stored, quarantined: report.quarantined }, true);
      logger.info({ symbol: report.symbol, timeframe: report.timeframe, rowsRead: report.rowsRead, stored: report.stored, quarantined: report.quarantined }, "import finished");
      onReport?.(report);
      send(200, report);
    } catch (err) {
      const message = err instanceof ImportError ? err.message : "import failed; nothing was stored";
      progress({ bytesRead: 0, rowsRead: 0, stored: 0, quarantined: 0 }, true, message);
      if (!(err instanceof ImportError)) logger.error({ err }, "import failed");
      if (!res.headersSent && !res.destroyed) send(err instanceof ImportError ? 400 : 500, { error: message });
    } finally {
      await sql.close();
    }
  };
}
