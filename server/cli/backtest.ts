/**
 * npm run --silent backtest -- --data FILE|--series SYMBOL:TF --strategy sma-cross|builder:NAME[@V]|model:MODEL_ID
 *   --param fast=10 --param slow=30 --size 100 --fee-per-fill 1 --cash 1000000
 *   [--instrument unit|SYMBOL] [--tz ZONE] [--from T --to T] [--slippage-ticks N]
 *   [--commission-per-contract X | --commission-pct X] [--same-bar stop_first|target_first]
 *   [--no-save] --json
 * With --json the last stdout line is one JSON object: fills, finalValue and every metric.
 * The run is saved (configuration, span, metrics, trades, equity) unless --no-save.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { BacktestInputError, type BacktestConfigInput, buildReport, executePrepared, type PreparedBacktest, prepareBacktest, type RunnerDeps } from "@/engine/backtest/runner";
import { TIMEFRAMES, type Timeframe } from "@/engine/data/types";
import type { Sql } from "@/engine/store/sql";

function fail(msg: string, code = 2): never {
  process.stderr.write(`backtest: ${msg}\n`);
  process.exit(code);
}

/** A time: ISO date/time (UTC unless it has an offset) or epoch ms. */
export function parseTime(s: string, field: string): number {
  if (/^\d{11,}$/.test(s)) return Number(s);
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s.replace(" ", "T")}Z`);
  if (!Number.isFinite(t)) fail(`--${field}: not a date/time: ${s}`);
  return t;
}

function num(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) fail(`--${field} must be a number, got '${v}'`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        data: { type: "string" },
        series: { type: "string" },
        strategy: { type: "string" },
        param: { type: "string", multiple: true, default: [] },
        size: { type: "string" },
        "fee-per-fill": { type: "string" },
        "commission-per-contract": { type: "string" },
        "commission-pct": { type: "string" },
        "slippage-ticks": { type: "string" },
        "slippage-pct": { type: "string" },
        cash: { type: "string" },
        instrument: { type: "string" },
        tz: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        "same-bar": { type: "string" },
        json: { type: "boolean", default: false },
        "no-save": { type: "boolean", default: false },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values;
  if (!v.strategy) fail("--strategy is required (sma-cross, rsi-reversion, orb, bollinger-breakout, builder:<name> or model:<modelId>)");
  if (!v.data === !v.series) fail("give exactly one of --data FILE or --series SYMBOL:TF");
  const params: Record<string, string> = {};
  for (const p of v.param ?? []) {
    const i = p.indexOf("=");
    if (i <= 0) fail(`--param must be name=value, got '${p}'`);
    params[p.slice(0, i)] = p.slice(i + 1);
  }
  const fees = [v["fee-per-fill"], v["commission-per-contract"], v["commission-pct"]].filter((x) => x !== undefined);
  if (fees.length > 1) fail("give at most one of --fee-per-fill, --commission-per-contract, --commission-pct");
  const commission =
    v["fee-per-fill"] !== undefined
      ? { kind: "per_fill" as const, amount: num(v["fee-per-fill"], "fee-per-fill")! }
      : v["commission-per-contract"] !== undefined
        ? { kind: "per_contract" as const, amount: num(v["commission-per-contract"], "commission-per-contract")! }
        : v["commission-pct"] !== undefined
          ? { kind: "percent" as const, percent: num(v["commission-pct"], "commission-pct")! }
          : undefined;
  if (v["slippage-ticks"] !== undefined && v["slippage-pct"] !== undefined) fail("give at most one of --slippage-ticks, --slippage-pct");
  const slippage =
    v["slippage-ticks"] !== undefined ? { kind: "ticks" as const, ticks: num(v["slippage-ticks"], "slippage-ticks")! } : v["slippage-pct"] !== undefined ? { kind: "percent" as const, percent: num(v["slippage-pct"], "slippage-pct")! } : undefined;

  let data: BacktestConfigInput["data"];
  if (v.data) data = { kind: "csv", path: v.data, timeZone: v.tz ?? "UTC" };
  else {
    const m = /^([^:]+):(.+)$/.exec(v.series!);
    if (!m) fail(`--series must be SYMBOL:TIMEFRAME, got '${v.series}'`);
    if (!(TIMEFRAMES as readonly string[]).includes(m[2]!)) fail(`--series timeframe must be one of ${TIMEFRAMES.join(", ")}, got '${m[2]}'`);
    data = { kind: "series", symbol: m[1]!.toUpperCase(), timeframe: m[2] as Timeframe };
  }
  const config: BacktestConfigInput = {
    data,
    strategy: v.strategy,
    params,
    ...(v.instrument ? { instrument: v.instrument === "unit" ? "unit" : v.instrument.toUpperCase() } : {}),
    ...(v.size !== undefined ? { size: num(v.size, "size") } : {}),
    ...(v.cash !== undefined ? { cash: num(v.cash, "cash") } : {}),
    ...(commission ? { commission } : {}),
    ...(slippage ? { slippage } : {}),
    ...(v["same-bar"] ? { sameBarPolicy: v["same-bar"] as "stop_first" } : {}),
    ...(v.from ? { from: parseTime(v.from, "from") } : {}),
    ...(v.to ? { to: parseTime(v.to, "to") } : {}),
  };

  // The database is needed for stored series, builder and model strategies, instruments and saving the run.
  const needDb = !v["no-save"] || !!v.series || v.strategy.startsWith("builder:") || v.strategy.startsWith("model:") || (v.instrument !== undefined && v.instrument !== "unit");
  // database modules load only when needed: a file backtest with --no-save stays lean
  let sql: Sql | null = null;
  const db = needDb
    ? {
        ...(await import("@/engine/store/backtests")),
        ...(await import("@/engine/store/instruments")),
        ...(await import("@/engine/store/stored-bars")),
        ...(await import("@/engine/core/strategies/builder")),
        ...(await import("@/engine/store/training")),
      }
    : null;
  if (needDb) {
    const { loadEnvOrExit } = await import("@/engine/runtime/env");
    const { migrate } = await import("@/prisma/migrate");
    const { openSql } = await import("@/engine/store/sql");
    const env = loadEnvOrExit("backtest");
    await migrate(env.databaseUrl);
    sql = openSql(env.databaseUrl);
    await db!.ensureBuiltinInstruments(sql);
  }
  const deps: RunnerDeps = sql && db
    ? {
        instrument: (s) => db.getInstrument(sql!, s),
        loadSeries: (symbol, tf, range) => db.loadStoredBars(sql!, symbol, tf, range),
        builder: async (name, version) => {
          const row = await db.getSpec(sql!, name, version);
          if (!row) throw new Error(`no builder strategy named '${name}'${version ? ` at version ${version}` : ""}`);
          const compiled = db.compileBuilderSpec(row.spec);
          return { name: row.name, version: row.version, create: compiled.create };
        },
        model: async (modelId) => {
          const row = await db.getModel(sql!, modelId);
          if (!row) throw new Error(`no registered model '${modelId}' (train one with npm run train, or on the Training page)`);
          // onnxruntime loads only for model strategies
          const { loadModelPolicy } = await import("@/engine/rl/model-strategy");
          return loadModelPolicy({ id: row.id, name: row.name, env: row.env, featureSpec: row.featureSpec, onnx: row.onnx });
        },
      }
    : {};
  const id = randomUUID();
  let saved = false;
  let prepared: PreparedBacktest | undefined;
  try {
    prepared = await prepareBacktest(config, deps);
    if (sql && db && !v["no-save"]) {
      await db.createRun(sql, { id, strategy: prepared.strategyId, symbol: prepared.symbol, timeframe: prepared.timeframe, source: prepared.dataInfo.source ?? "", config: prepared.config });
      saved = true;
    }
    let stop = false;
    process.once("SIGINT", () => (stop = true));
    const { result, metrics, elapsedMs } = executePrepared(prepared, { shouldStop: () => stop });
    // the full report (curves, candles, trades) only when it is saved
    if (sql && db && saved) await db.finishRun(sql, id, buildReport(prepared, result, metrics, elapsedMs));
    const report = {
      strategy: { id: prepared.strategyId, params: prepared.params },
      instrument: prepared.instrument,
      data: { ...prepared.dataInfo, symbol: prepared.symbol, timeframe: prepared.timeframe, firstTs: result.startTs, lastTs: result.endTs },
      fills: result.fillCount,
      finalValue: result.finalValue,
      finalPosition: result.finalPosition,
      aborted: result.aborted,
    };
    const summary = {
      ...(saved ? { runId: id } : {}),
      strategy: report.strategy.id,
      params: report.strategy.params,
      instrument: report.instrument.symbol,
      firstTs: new Date(report.data.firstTs).toISOString(),
      lastTs: new Date(report.data.lastTs).toISOString(),
      ...(report.data.rowsRead !== undefined ? { rowsRead: report.data.rowsRead, quarantined: report.data.quarantined, duplicates: report.data.duplicates } : {}),
      fills: report.fills,
      finalValue: Math.round(report.finalValue * 100) / 100,
      finalValueExact: report.finalValue,
      finalPosition: report.finalPosition,
      ...metrics,
      elapsedMs: Math.round(elapsedMs),
      aborted: report.aborted,
    };
    if (v.json) process.stdout.write(JSON.stringify(summary) + "\n");
    else {
      const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
      process.stdout.write(
        `${summary.strategy} ${JSON.stringify(summary.params)} on ${report.data.symbol} ${report.data.timeframe}, ${summary.bars} bars ${summary.firstTs} .. ${summary.lastTs}\n` +
          `fills ${summary.fills}, trades ${metrics.trades}, final value ${summary.finalValue.toFixed(2)} (${pct(metrics.totalReturn)})\n` +
          `sharpe ${metrics.sharpe.toFixed(3)}, sortino ${metrics.sortino.toFixed(3)}, max drawdown ${pct(metrics.maxDrawdownPct)}, win rate ${pct(metrics.winRate)}, profit factor ${metrics.profitFactor ?? "inf"}\n` +
          (saved ? `saved as run ${id}\n` : ""),
      );
    }
  } catch (err) {
    if (sql && db && saved) await db.failRun(sql, id, (err as Error).message);
    await prepared?.release?.().catch(() => {});
    await sql?.close();
    if (err instanceof BacktestInputError) fail(err.message, 2);
    fail((err as Error).message, 1);
  }
  await prepared?.release?.();
  await sql?.close();
}

main().catch((err: unknown) => fail((err as Error).stack ?? String(err), 1));
