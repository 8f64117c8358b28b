import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, roleProcedure } from "@/server/api/trpc";
import { calendarFor } from "@/engine/data/calendar";
import { CALENDAR_IDS, INSTRUMENT_KINDS, SYMBOL_PATTERN } from "@/engine/data/instruments";
import { resample } from "@/engine/data/resample";
import { TIMEFRAMES, TIMEFRAME_MS, type BarColumns, type Timeframe } from "@/engine/data/types";
import { Readable } from "node:stream";
import { ImportError, TICK_TIMEFRAMES, importSeries } from "@/engine/store/importer";
import { getInstrument, listInstruments, upsertInstrument } from "@/engine/store/instruments";
import { openSql } from "@/engine/store/sql";
import { reportToJson } from "@/server/market/report";
import { EngineUnavailableError, engineClient } from "@/server/engine-client";
import { getSeries, listSeries, loadSeries } from "@/engine/store/series";

const MAX_BARS = 20_000;

const instrumentInput = z.object({
  symbol: z.string().trim().toUpperCase().regex(SYMBOL_PATTERN, "Use 1-32 letters, digits, dot, dash or underscore."),
  name: z.string().trim().min(1, "Give the instrument a name.").max(120),
  kind: z.enum(INSTRUMENT_KINDS as [string, ...string[]]),
  tickSize: z.number().positive("Tick size must be positive.").finite(),
  pointValue: z.number().positive("Point value must be positive.").finite(),
  currency: z.string().trim().toUpperCase().regex(/^[A-Z]{3,5}$/, "Use a currency code such as USD or USDT."),
  commission: z.number().min(0, "Commission cannot be negative.").finite(),
  commissionType: z.enum(["per_contract", "percent"]),
  calendar: z.enum(CALENDAR_IDS as [string, ...string[]]),
});

function toArrays(cols: BarColumns, from: number, to: number) {
  const slice = (a: Float64Array) => Array.from(a.subarray(from, to));
  return { t: slice(cols.ts), o: slice(cols.open), h: slice(cols.high), l: slice(cols.low), c: slice(cols.close), v: slice(cols.volume) };
}

export const marketRouter = createTRPCRouter({
  /** Instruments with their stored series, latest gap report and quarantine counts. */
  instruments: roleProcedure("viewer").query(async ({ ctx }) => {
    const sql = ctx.deps.sql();
    const [instruments, series, quarantine, reports] = await Promise.all([
      listInstruments(sql),
      listSeries(sql),
      sql.all<{ symbol: string; n: number | string }>(`SELECT "symbol", COUNT(*) AS "n" FROM "QuarantineRow" GROUP BY "symbol"`),
      sql.all<{ symbol: string; timeframe: string; gaps: string; startedAt: string | Date }>(`SELECT "symbol","timeframe","gaps","startedAt" FROM "ImportReport" ORDER BY "startedAt" DESC`),
    ]);
    const q = new Map(quarantine.map((r) => [r.symbol, Number(r.n)]));
    const latestGaps = new Map<string, { count: number; missingBars: number }>();
    for (const r of reports) {
      const key = `${r.symbol}:${r.timeframe}`;
      if (latestGaps.has(key)) continue;
      const g = JSON.parse(r.gaps) as { count?: number; missingBars?: number };
      latestGaps.set(key, { count: g.count ?? 0, missingBars: g.missingBars ?? 0 });
    }
    return instruments.map((i) => ({
      ...i,
      quarantined: q.get(i.symbol) ?? 0,
      series: series
        .filter((s) => s.symbol === i.symbol)
        .map((s) => ({ timeframe: s.timeframe, kind: s.kind, count: s.count, first: s.firstTs, last: s.lastTs, gaps: latestGaps.get(`${s.symbol}:${s.timeframe}`) ?? null })),
    }));
  }),

  saveInstrument: roleProcedure("trader")
    .input(instrumentInput)
    .mutation(async ({ ctx, input }) => upsertInstrument(ctx.deps.sql(), input as Parameters<typeof upsertInstrument>[1])),

  /**
   * Bars of a symbol at a timeframe: the stored series if there is one,
   * otherwise resampled (session-aware) from the finest stored bars. The
   * newest `limit` bars in [from, to] are returned.
   */
  bars: roleProcedure("viewer")
    .input(z.object({ symbol: z.string().min(1), timeframe: z.enum(TIMEFRAMES), from: z.number().optional(), to: z.number().optional(), limit: z.number().int().min(1).max(MAX_BARS).default(5000) }))
    .query(async ({ ctx, input }) => {
      const sql = ctx.deps.sql();
      const instrument = await getInstrument(sql, input.symbol);
      if (!instrument) throw new TRPCError({ code: "NOT_FOUND", message: `Unknown symbol ${input.symbol}.` });
      const stored = (await listSeries(sql, input.symbol)).filter((s) => s.kind === "bars" && s.count > 0);
      const wanted = TIMEFRAME_MS[input.timeframe];
      const exact = stored.find((s) => s.timeframe === input.timeframe);
      const finer = stored
        .filter((s) => (TIMEFRAMES as readonly string[]).includes(s.timeframe) && TIMEFRAME_MS[s.timeframe as Timeframe] < wanted && wanted % TIMEFRAME_MS[s.timeframe as Timeframe] === 0)
        .sort((a, b) => TIMEFRAME_MS[b.timeframe as Timeframe] - TIMEFRAME_MS[a.timeframe as Timeframe])[0];
      const source = exact ?? finer;
      if (!source) {
        return { symbol: input.symbol, timeframe: input.timeframe, source: null, resampled: false, total: 0, t: [], o: [], h: [], l: [], c: [], v: [] };
      }
      // For resampling, widen the window so the first bucket is complete.
      const pad = source === exact ? 0 : wanted;
      const cols = await loadSeries(sql, source, { from: input.from === undefined ? undefined : input.from - pad, to: input.to });
      let bars: BarColumns = { length: cols.length, ts: cols.f[0]!, open: cols.f[1]!, high: cols.f[2]!, low: cols.f[3]!, close: cols.f[4]!, volume: cols.f[5]! };
      if (source !== exact) bars = resample(bars, source.timeframe as Timeframe, input.timeframe, calendarFor(instrument.calendar));
      let lo = 0;
      if (input.from !== undefined) while (lo < bars.length && bars.ts[lo]! < input.from) lo++;
      const hi = bars.length;
      const start = Math.max(lo, hi - input.limit);
      return { symbol: input.symbol, timeframe: input.timeframe, source: source.timeframe, resampled: source !== exact, total: hi - lo, ...toArrays(bars, start, hi) };
    }),

  /**
   * Imports CSV text sent through tRPC (for scripts and small files; the
   * Markets page streams larger files to /api/market/upload instead).
   */
  importCsv: roleProcedure("trader")
    .input(
      z.object({
        symbol: z.string().trim().min(1).transform((s) => s.toUpperCase()),
        timeframe: z.enum([...TIMEFRAMES, ...TICK_TIMEFRAMES]),
        timeZone: z.string().trim().min(1).default("UTC"),
        fileName: z.string().trim().min(1).max(255).default("trpc.csv"),
        csv: z.string().min(1, "The CSV text is empty.").max(20_000_000, "Send files over 20 MB to /api/market/upload."),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const sql = openSql(ctx.deps.env.databaseUrl, { bulk: true });
      try {
        const instrument = await getInstrument(sql, input.symbol);
        if (!instrument) throw new TRPCError({ code: "BAD_REQUEST", message: `Unknown symbol "${input.symbol}": add the instrument first.` });
        const report = await importSeries(sql, {
          instrument,
          timeframe: input.timeframe,
          timeZone: input.timeZone,
          fileName: input.fileName,
          source: Readable.from([Buffer.from(input.csv)]),
          createdById: ctx.user.id,
        });
        return reportToJson(report);
      } catch (err) {
        if (err instanceof ImportError) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
        throw err;
      } finally {
        await sql.close();
      }
    }),

  /** Controls the engine's replay of a stored series as a live feed (events on the stream). */
  replay: roleProcedure("trader")
    .input(
      z.discriminatedUnion("type", [
        z.object({ type: z.literal("replay.start"), symbol: z.string().min(1), timeframe: z.enum(TIMEFRAMES), speed: z.union([z.literal("max"), z.number().positive().max(1_000_000)]).default(1), ticks: z.boolean().default(false), from: z.number().optional() }),
        z.object({ type: z.literal("replay.pause") }),
        z.object({ type: z.literal("replay.resume") }),
        z.object({ type: z.literal("replay.stop") }),
        z.object({ type: z.literal("replay.status") }),
        z.object({ type: z.literal("replay.seek"), ts: z.number() }),
        z.object({ type: z.literal("replay.speed"), speed: z.union([z.literal("max"), z.number().positive().max(1_000_000)]) }),
      ]),
    )
    .mutation(async ({ ctx, input }) => {
      let res;
      try {
        res = await engineClient(ctx.deps.env.engineUrl, ctx.deps.engineSecret).command(input);
      } catch (err) {
        if (err instanceof EngineUnavailableError) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "Engine offline: replays run in the engine." });
        throw err;
      }
      const body = res.body as { error?: string; replay?: unknown };
      if (res.status !== 200) throw new TRPCError({ code: "BAD_REQUEST", message: body.error ?? `engine refused the command (HTTP ${res.status})` });
      return body.replay as null | { replayId: string; state: string; symbol: string; timeframe: string; position: number; total: number; currentTs: number | null; speed: number | "max" };
    }),

  imports: roleProcedure("viewer")
    .input(z.object({ symbol: z.string().optional(), limit: z.number().int().min(1).max(200).default(50) }))
    .query(async ({ ctx, input }) => {
      const sql = ctx.deps.sql();
      const rows = await sql.all<Record<string, unknown>>(
        `SELECT * FROM "ImportReport" ${input.symbol ? `WHERE "symbol" = ?` : ""} ORDER BY "startedAt" DESC LIMIT ${input.limit}`,
        input.symbol ? [input.symbol] : [],
      );
      return rows.map((r) => ({
        id: String(r.id),
        symbol: String(r.symbol),
        timeframe: String(r.timeframe),
        fileName: String(r.fileName),
        timeZone: String(r.timeZone),
        status: String(r.status),
        rowsRead: Number(r.rowsRead),
        stored: Number(r.stored),
        inserted: Number(r.inserted),
        unchanged: Number(r.unchanged),
        quarantined: Number(r.quarantined),
        flagged: Number(r.flagged),
        reasons: JSON.parse(String(r.reasons)) as Record<string, number>,
        flags: JSON.parse(String(r.flags)) as Record<string, number>,
        gaps: JSON.parse(String(r.gaps)) as { count: number; missingBars: number; first: { from: number; to: number; missingBars: number }[] },
        first: r.firstTs === null ? null : Number(r.firstTs),
        last: r.lastTs === null ? null : Number(r.lastTs),
        startedAt: new Date(String(r.startedAt instanceof Date ? r.startedAt.toISOString() : r.startedAt)),
      }));
    }),

  quarantine: roleProcedure("viewer")
    .input(z.object({ importId: z.string().optional(), symbol: z.string().optional(), reason: z.string().optional(), afterId: z.number().int().default(0), limit: z.number().int().min(1).max(500).default(100) }))
    .query(async ({ ctx, input }) => {
      const where: string[] = [`"id" > ?`];
      const params: unknown[] = [input.afterId];
      if (input.importId) (where.push(`"importId" = ?`), params.push(input.importId));
      if (input.symbol) (where.push(`"symbol" = ?`), params.push(input.symbol));
      if (input.reason) (where.push(`"reason" = ?`), params.push(input.reason));
      const rows = await ctx.deps.sql().all<{ id: number; importId: string; symbol: string; line: number; raw: string; reason: string; detail: string }>(
        `SELECT "id","importId","symbol","line","raw","reason","detail" FROM "QuarantineRow" WHERE ${where.join(" AND ")} ORDER BY "id" LIMIT ${input.limit + 1}`,
        params,
      );
      const more = rows.length > input.limit;
      const page = rows.slice(0, input.limit).map((r) => ({ ...r, id: Number(r.id), line: Number(r.line) }));
      return { rows: page, nextAfterId: more ? page[page.length - 1]!.id : null };
    }),

  series: roleProcedure("viewer")
    .input(z.object({ symbol: z.string(), timeframe: z.string() }))
    .query(async ({ ctx, input }) => (await getSeries(ctx.deps.sql(), input.symbol, input.timeframe)) ?? null),
});
