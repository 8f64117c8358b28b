/**
 * Optimisations in the engine, driven by commands:
 *   {type:"optimize.start", job, userId?}  -> {optimizationId}   (one after another)
 *   {type:"optimize.cancel", optimizationId}
 * Trials run on worker threads across the cores (engine/optimize/pool.ts), so
 * the engine keeps serving while they run. Progress goes out on the stream as
 * "optimize.progress"; the result (trials, Pareto front, heatmap, walk-forward
 * folds with in-sample and out-of-sample figures, overfitting statistics) is
 * stored in OptimizationRun.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { z } from "zod";
import type { RunnerDeps } from "./backtest/runner";
import type { EventBus } from "./events";
import { OptimizationJobSchema, runOptimization } from "./optimize/run";
import { buildSpace, SpaceError } from "./optimize/space";
import { findStrategy, ParamError, resolveParams } from "./core/strategies/builtin";
import { createOptimization, updateOptimization } from "./store/backtests";
import type { Sql } from "./store/sql";
import { runnerDeps } from "./backtest-service";

const commandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("optimize.start"), job: z.record(z.string(), z.unknown()), userId: z.string().max(100).optional() }),
  z.object({ type: z.literal("optimize.cancel"), optimizationId: z.string().min(1) }),
]);

export class OptimizeService {
  private queue: Promise<void> = Promise.resolve();
  private readonly cancelled = new Set<string>();
  private readonly active = new Set<string>();

  constructor(
    private readonly sql: Sql,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly deps: RunnerDeps = runnerDeps(sql),
  ) {}

  async handle(body: unknown): Promise<{ status: number; body: unknown } | undefined> {
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !type.startsWith("optimize.")) return undefined;
    const parsed = commandSchema.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: "invalid command", fieldErrors: z.flattenError(parsed.error).fieldErrors } };
    const cmd = parsed.data;
    if (cmd.type === "optimize.cancel") {
      if (!this.active.has(cmd.optimizationId)) return { status: 404, body: { error: `no running optimisation ${cmd.optimizationId}` } };
      this.cancelled.add(cmd.optimizationId);
      return { status: 200, body: { ok: true } };
    }
    const job = cmd.job as { kind?: string; backtest?: { data?: { kind?: string } } };
    if (job.backtest?.data?.kind === "csv") return { status: 400, body: { error: "backtest.data: files are for the CLI; import the file on Markets first", field: "backtest.data" } };
    const checked = OptimizationJobSchema.safeParse(cmd.job);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      const field = issue.path.map(String).join(".") || "job";
      return { status: 400, body: { error: `${field}: ${issue.message}`, field } };
    }
    if (checked.data.backtest.strategy.startsWith("builder:") || checked.data.backtest.strategy.startsWith("model:")) return { status: 400, body: { error: "backtest.strategy: optimisation varies the parameters of a built-in strategy", field: "backtest.strategy" } };
    // the strategy, its base parameters and the space, before anything is queued
    try {
      const def = findStrategy(checked.data.backtest.strategy);
      const base = resolveParams(def, { ...checked.data.backtest.params, ...(checked.data.backtest.size !== undefined ? { size: checked.data.backtest.size } : {}) });
      buildSpace(def, checked.data.space, base);
    } catch (e) {
      if (e instanceof ParamError) {
        const field = e.field === "strategy" ? "backtest.strategy" : `backtest.params.${e.field}`;
        return { status: 400, body: { error: `${field}: ${e.message}`, field } };
      }
      if (e instanceof SpaceError) return { status: 400, body: { error: e.message, field: e.field } };
      throw e;
    }
    const id = randomUUID();
    await createOptimization(this.sql, { id, kind: checked.data.kind, config: cmd.job, createdById: cmd.userId ?? null });
    this.active.add(id);
    this.start(id, cmd.job);
    return { status: 200, body: { ok: true, optimizationId: id } };
  }

  idle(): Promise<void> {
    return this.queue;
  }

  private publish(id: string, kind: string, done: number, total: number, status: "running" | "done" | "failed" | "cancelled", extra: { error?: string; best?: { params: Record<string, unknown>; objective: number } | null } = {}): void {
    this.bus.publish({ type: "optimize.progress", data: { optimizationId: id, kind, done, total, status, error: extra.error ?? null, best: extra.best ?? null } });
  }

  private start(id: string, job: Record<string, unknown>): void {
    const kind = String(job.kind ?? "?");
    this.queue = this.queue
      .then(async () => {
        let lastPublish = 0;
        let lastProgress = 0;
        this.publish(id, kind, 0, 0, "running");
        try {
          const result = await runOptimization(job, this.deps, {
            onProgress: (p) => {
              const now = performance.now();
              if (now - lastPublish < 250 && p.done < p.total) return;
              lastPublish = now;
              this.publish(id, kind, p.done, p.total, "running", { best: p.best && p.best.objective !== null ? { params: p.best.params, objective: p.best.objective } : null });
              if (now - lastProgress > 2000) {
                lastProgress = now;
                void updateOptimization(this.sql, id, { progress: p.total > 0 ? p.done / p.total : 0 }).catch(() => {});
              }
            },
            shouldStop: () => this.cancelled.has(id),
          });
          const status = result.stopped ? "cancelled" : "done";
          await updateOptimization(this.sql, id, { status, result, progress: 1 });
          this.publish(id, kind, result.trials.length, result.total, status, { best: result.best && result.best.objective !== null ? { params: result.best.params, objective: result.best.objective } : null });
          this.logger.info({ optimizationId: id, kind, trials: result.trials.length, ms: Math.round(result.elapsedMs) }, "optimisation finished");
        } catch (e) {
          const err = e as Error;
          await updateOptimization(this.sql, id, { status: "failed", error: err.message }).catch(() => {});
          this.publish(id, kind, 0, 0, "failed", { error: err.message });
          this.logger.warn({ optimizationId: id, err: err.message }, "optimisation failed");
        } finally {
          this.active.delete(id);
          this.cancelled.delete(id);
        }
      })
      .catch(() => {});
  }
}
