/**
 * Persistence of backtest runs, builder strategy specs and optimisation runs,
 * through the Sql port (SQLite or PostgreSQL). Large parts (trades, equity,
 * prices) are JSON text columns read only when a report is opened.
 */
import type { BacktestReport } from "../backtest/runner";
import type { SqlExec } from "./sql";

export type RunStatus = "running" | "done" | "failed" | "cancelled";

export interface BacktestRunRow {
  id: string;
  status: RunStatus;
  strategy: string;
  symbol: string;
  timeframe: string;
  source: string;
  config: unknown;
  firstTs: number | null;
  lastTs: number | null;
  bars: number;
  fills: number;
  finalValue: number | null;
  metrics: Record<string, unknown> | null;
  error: string | null;
  optimizationId: string | null;
  createdById: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const now = () => new Date().toISOString();
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const parse = <T>(v: unknown): T | null => (typeof v === "string" && v.length ? (JSON.parse(v) as T) : null);
const dateStr = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : typeof v === "number" ? new Date(v).toISOString() : String(v));

export async function createRun(db: SqlExec, r: { id: string; strategy: string; symbol: string; timeframe: string; source: string; config: unknown; createdById?: string | null; optimizationId?: string | null }): Promise<void> {
  await db.run(`INSERT INTO "BacktestRun" ("id","status","strategy","symbol","timeframe","source","config","createdById","optimizationId","createdAt") VALUES (?,?,?,?,?,?,?,?,?,?)`, [
    r.id,
    "running",
    r.strategy,
    r.symbol,
    r.timeframe,
    r.source,
    JSON.stringify(r.config),
    r.createdById ?? null,
    r.optimizationId ?? null,
    now(),
  ]);
}

export async function finishRun(db: SqlExec, id: string, report: BacktestReport): Promise<void> {
  await db.run(
    `UPDATE "BacktestRun" SET "status"=?,"strategy"=?,"symbol"=?,"timeframe"=?,"source"=?,"firstTs"=?,"lastTs"=?,"bars"=?,"fills"=?,"finalValue"=?,"metrics"=?,"trades"=?,"equity"=?,"monthly"=?,"prices"=?,"finishedAt"=? WHERE "id"=?`,
    [
      report.aborted ? "cancelled" : "done",
      report.strategy.id,
      report.data.symbol,
      report.data.timeframe,
      report.data.source,
      Number.isFinite(report.data.firstTs) ? report.data.firstTs : null,
      Number.isFinite(report.data.lastTs) ? report.data.lastTs : null,
      report.data.bars,
      report.fills,
      report.finalValue,
      JSON.stringify({ ...report.metrics, strategy: report.strategy, instrument: report.instrument, data: report.data, cash: report.cash, costs: report.costs, finalPosition: report.finalPosition, elapsedMs: report.elapsedMs, barsPerSecond: report.barsPerSecond }),
      JSON.stringify(report.trades),
      JSON.stringify(report.equity),
      JSON.stringify(report.monthly),
      JSON.stringify(report.prices),
      now(),
      id,
    ],
  );
}

export async function failRun(db: SqlExec, id: string, error: string): Promise<void> {
  await db.run(`UPDATE "BacktestRun" SET "status"='failed',"error"=?,"finishedAt"=? WHERE "id"=?`, [error.slice(0, 4000), now(), id]);
}

function rowToRun(r: Record<string, unknown>): BacktestRunRow {
  return {
    id: String(r.id),
    status: r.status as RunStatus,
    strategy: String(r.strategy),
    symbol: String(r.symbol),
    timeframe: String(r.timeframe),
    source: String(r.source),
    config: parse(r.config),
    firstTs: num(r.firstTs),
    lastTs: num(r.lastTs),
    bars: Number(r.bars),
    fills: Number(r.fills),
    finalValue: num(r.finalValue),
    metrics: parse(r.metrics),
    error: (r.error as string | null) ?? null,
    optimizationId: (r.optimizationId as string | null) ?? null,
    createdById: (r.createdById as string | null) ?? null,
    createdAt: dateStr(r.createdAt)!,
    finishedAt: dateStr(r.finishedAt),
  };
}

const SUMMARY_COLS = `"id","status","strategy","symbol","timeframe","source","config","firstTs","lastTs","bars","fills","finalValue","metrics","error","optimizationId","createdById","createdAt","finishedAt"`;

export async function listRuns(db: SqlExec, opts: { limit?: number; optimizationId?: string } = {}): Promise<BacktestRunRow[]> {
  const limit = Math.min(500, Math.max(1, opts.limit ?? 50));
  const rows = opts.optimizationId
    ? await db.all(`SELECT ${SUMMARY_COLS} FROM "BacktestRun" WHERE "optimizationId" = ? ORDER BY "createdAt" DESC LIMIT ${limit}`, [opts.optimizationId])
    : await db.all(`SELECT ${SUMMARY_COLS} FROM "BacktestRun" WHERE "optimizationId" IS NULL ORDER BY "createdAt" DESC LIMIT ${limit}`);
  return rows.map(rowToRun);
}

export interface BacktestRunDetail extends BacktestRunRow {
  trades: unknown[];
  equity: unknown[];
  monthly: unknown[];
  prices: unknown[];
}

export async function getRun(db: SqlExec, id: string): Promise<BacktestRunDetail | undefined> {
  const [r] = await db.all(`SELECT * FROM "BacktestRun" WHERE "id" = ?`, [id]);
  if (!r) return undefined;
  return { ...rowToRun(r), trades: parse(r.trades) ?? [], equity: parse(r.equity) ?? [], monthly: parse(r.monthly) ?? [], prices: parse(r.prices) ?? [] };
}

export async function deleteRun(db: SqlExec, id: string): Promise<void> {
  await db.run(`DELETE FROM "BacktestRun" WHERE "id" = ?`, [id]);
}

// ------------------------------------------------------------------ builder specs

export interface StrategySpecRow {
  name: string;
  version: number;
  spec: unknown;
  createdById: string | null;
  createdAt: string;
}

export async function saveSpec(db: SqlExec, name: string, spec: unknown, createdById: string | null): Promise<StrategySpecRow> {
  const [last] = await db.all<{ v: number | null }>(`SELECT MAX("version") AS "v" FROM "StrategySpec" WHERE "name" = ?`, [name]);
  const version = Number(last?.v ?? 0) + 1;
  const createdAt = now();
  await db.run(`INSERT INTO "StrategySpec" ("name","version","spec","createdById","createdAt") VALUES (?,?,?,?,?)`, [name, version, JSON.stringify(spec), createdById, createdAt]);
  return { name, version, spec, createdById, createdAt };
}

export async function getSpec(db: SqlExec, name: string, version?: number): Promise<StrategySpecRow | undefined> {
  const rows =
    version === undefined
      ? await db.all(`SELECT * FROM "StrategySpec" WHERE "name" = ? ORDER BY "version" DESC LIMIT 1`, [name])
      : await db.all(`SELECT * FROM "StrategySpec" WHERE "name" = ? AND "version" = ?`, [name, version]);
  const r = rows[0];
  if (!r) return undefined;
  return { name: String(r.name), version: Number(r.version), spec: parse(r.spec), createdById: (r.createdById as string | null) ?? null, createdAt: dateStr(r.createdAt)! };
}

export async function listSpecs(db: SqlExec): Promise<{ name: string; version: number; createdAt: string }[]> {
  const rows = await db.all(`SELECT "name", MAX("version") AS "version", MAX("createdAt") AS "createdAt" FROM "StrategySpec" GROUP BY "name" ORDER BY "name"`);
  return rows.map((r) => ({ name: String(r.name), version: Number(r.version), createdAt: dateStr(r.createdAt)! }));
}

// ------------------------------------------------------------------ optimisation runs

export async function createOptimization(db: SqlExec, r: { id: string; kind: string; config: unknown; createdById?: string | null }): Promise<void> {
  await db.run(`INSERT INTO "OptimizationRun" ("id","kind","status","config","createdById","createdAt") VALUES (?,?,?,?,?,?)`, [r.id, r.kind, "running", JSON.stringify(r.config), r.createdById ?? null, now()]);
}

export async function updateOptimization(db: SqlExec, id: string, patch: { status?: RunStatus; result?: unknown; progress?: number; error?: string }): Promise<void> {
  const sets: string[] = [];
  const params: unknown[] = [];
  if (patch.status) {
    sets.push(`"status"=?`);
    params.push(patch.status);
    if (patch.status !== "running") {
      sets.push(`"finishedAt"=?`);
      params.push(now());
    }
  }
  if (patch.result !== undefined) {
    sets.push(`"result"=?`);
    params.push(JSON.stringify(patch.result));
    const r = patch.result as { trials?: unknown[]; total?: number; best?: { objective?: number | null } | null };
    sets.push(`"trials"=?`, `"total"=?`, `"bestObjective"=?`);
    params.push(Array.isArray(r.trials) ? r.trials.length : null, typeof r.total === "number" ? r.total : null, typeof r.best?.objective === "number" && Number.isFinite(r.best.objective) ? r.best.objective : null);
  }
  if (patch.progress !== undefined) {
    sets.push(`"progress"=?`);
    params.push(patch.progress);
  }
  if (patch.error !== undefined) {
    sets.push(`"error"=?`);
    params.push(patch.error.slice(0, 4000));
  }
  if (!sets.length) return;
  params.push(id);
  await db.run(`UPDATE "OptimizationRun" SET ${sets.join(",")} WHERE "id"=?`, params);
}

export async function listOptimizations(db: SqlExec, limit = 50): Promise<Record<string, unknown>[]> {
  const rows = await db.all(`SELECT "id","kind","status","config","progress","error","trials","total","bestObjective","createdAt","finishedAt" FROM "OptimizationRun" ORDER BY "createdAt" DESC LIMIT ${Math.min(500, Math.max(1, limit))}`);
  return rows.map((r) => ({ ...r, config: parse(r.config), createdAt: dateStr(r.createdAt), finishedAt: dateStr(r.finishedAt), progress: Number(r.progress), trials: num(r.trials), total: num(r.total), bestObjective: num(r.bestObjective) }));
}

export async function getOptimization(db: SqlExec, id: string): Promise<Record<string, unknown> | undefined> {
  const [r] = await db.all(`SELECT * FROM "OptimizationRun" WHERE "id" = ?`, [id]);
  if (!r) return undefined;
  return { ...r, config: parse(r.config), result: parse(r.result), createdAt: dateStr(r.createdAt), finishedAt: dateStr(r.finishedAt), progress: Number(r.progress) };
}
