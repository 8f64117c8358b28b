/**
 * Backtests in the engine, driven by commands:
 *   {type:"backtest.start", config, userId?}  -> {runId}   (runs queue one after another)
 *   {type:"backtest.cancel", runId}
 * Runs are persisted (configuration, span, metrics, trades, equity curve) and
 * progress goes out on the stream as "backtest.progress". The loop runs in
 * slices so the engine keeps serving its stream and heartbeat meanwhile. A
 * strategy that throws fails its run with the error; the engine keeps running.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { z } from "zod";
import { BacktestSession } from "./core/backtest";
import { computeMetrics } from "./core/metrics";
import { compileBuilderSpec } from "./core/strategies/builder";
import type { EventBus } from "./events";
import { BacktestInputError, buildReport, loopOptions, prepareBacktest, type PreparedBacktest, type RunnerDeps } from "./backtest/runner";
import { createRun, failRun, finishRun, getSpec } from "./store/backtests";
import { getInstrument } from "./store/instruments";
import type { Sql } from "./store/sql";
import { loadStoredBars } from "./store/stored-bars";
import { getModel } from "./store/training";

const commandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("backtest.start"), config: z.unknown(), userId: z.string().max(100).optional() }),
  z.object({ type: z.literal("backtest.cancel"), runId: z.string().min(1) }),
]);

export function runnerDeps(sql: Sql): RunnerDeps {
  return {
    instrument: (s) => getInstrument(sql, s),
    loadSeries: (symbol, tf, range) => loadStoredBars(sql, symbol, tf, range),
    builder: async (name, version) => {
      const row = await getSpec(sql, name, version);
      if (!row) throw new Error(`no builder strategy named '${name}'${version ? ` at version ${version}` : ""}`);
      const compiled = compileBuilderSpec(row.spec);
      return { name: row.name, version: row.version, create: compiled.create };
    },
    model: async (id) => {
      const row = await getModel(sql, id);
      if (!row) throw new Error(`no registered model '${id}' (see Training for the models)`);
      // onnxruntime loads only when a model is backtested
      const { loadModelPolicy } = await import("./rl/model-strategy");
      return loadModelPolicy({ id: row.id, name: row.name, env: row.env, featureSpec: row.featureSpec, onnx: row.onnx });
    },
  };
}

export class BacktestService {
  private queue: Promise<void> = Promise.resolve();
  private readonly cancelled = new Set<string>();
  private readonly active = new Set<string>();

  constructor(
    private readonly sql: Sql,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    /** Data, instrument and builder lookups; defaults to the database. */
    private readonly deps: RunnerDeps = runnerDeps(sql),
  ) {}

  async handle(body: unknown): Promise<{ status: number; body: unknown } | undefined> {
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !type.startsWith("backtest.")) return undefined;
    const parsed = commandSchema.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: "invalid command", fieldErrors: z.flattenError(parsed.error).fieldErrors } };
    const cmd = parsed.data;
    if (cmd.type === "backtest.cancel") {
      if (!this.active.has(cmd.runId)) return { status: 404, body: { error: `no running backtest ${cmd.runId}` } };
      this.cancelled.add(cmd.runId);
      return { status: 200, body: { ok: true } };
    }
    const cfg = cmd.config as { data?: { kind?: string } } | null;
    if (cfg?.data?.kind === "csv") return { status: 400, body: { error: "data: files are for the CLI; import the file on Markets and backtest the stored series", field: "data" } };
    let prepared: PreparedBacktest;
    try {
      prepared = await prepareBacktest(cmd.config, this.deps);
    } catch (e) {
      if (e instanceof BacktestInputError) return { status: 400, body: { error: e.message, field: e.field } };
      throw e;
    }
    const runId = randomUUID();
    try {
      await createRun(this.sql, { id: runId, strategy: prepared.strategyId, symbol: prepared.symbol, timeframe: prepared.timeframe, source: prepared.dataInfo.source ?? "", config: prepared.config, createdById: cmd.userId ?? null });
    } catch (e) {
      await prepared.release?.().catch(() => {});
      throw e;
    }
    this.active.add(runId);
    this.queue = this.queue.then(() => this.run(runId, prepared)).catch(() => {});
    return { status: 200, body: { ok: true, runId } };
  }

  /** Waits for every queued run (tests). */
  idle(): Promise<void> {
    return this.queue;
  }

  private publish(runId: string, p: PreparedBacktest, done: number, status: "running" | "done" | "failed" | "cancelled", extra: { error?: string; finalValue?: number; fills?: number } = {}): void {
    this.bus.publish({
      type: "backtest.progress",
      data: { runId, strategy: p.strategyId, symbol: p.symbol, timeframe: p.timeframe, done, total: p.to - p.from, status, error: extra.error ?? null, finalValue: extra.finalValue ?? null, fills: extra.fills ?? null },
    });
  }

  private async run(runId: string, p: PreparedBacktest): Promise<void> {
    const started = performance.now();
    this.publish(runId, p, 0, "running");
    try {
      const session = new BacktestSession(p.bars, loopOptions(p));
      let lastPublish = 0;
      while (!session.step(131_072)) {
        if (this.cancelled.has(runId)) {
          session.abort();
          break;
        }
        if (performance.now() - lastPublish > 250) {
          lastPublish = performance.now();
          this.publish(runId, p, session.done, "running");
        }
        await new Promise<void>((r) => setImmediate(r));
      }
      const result = session.result();
      const metrics = computeMetrics({ initialCash: p.config.cash, ts: result.ts, equity: result.equity, exposure: result.exposure, barMs: p.barMs, calendar: p.calendar, trades: result.trades });
      const report = buildReport(p, result, metrics, performance.now() - started);
      await finishRun(this.sql, runId, report);
      this.publish(runId, p, result.bars, report.aborted ? "cancelled" : "done", { finalValue: report.finalValue, fills: report.fills });
      this.logger.info({ runId, strategy: p.strategyId, bars: result.bars, fills: report.fills, ms: Math.round(report.elapsedMs) }, "backtest finished");
    } catch (e) {
      const msg = (e as Error).message;
      await failRun(this.sql, runId, msg).catch(() => {});
      this.publish(runId, p, 0, "failed", { error: msg });
      this.logger.warn({ runId, err: msg }, "backtest failed");
    } finally {
      await p.release?.().catch(() => {});
      this.active.delete(runId);
      this.cancelled.delete(runId);
    }
  }
}
