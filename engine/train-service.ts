/**
 * Training in the engine, driven by commands:
 *   {type:"train.start", config, userId?}   -> {runId}
 *   {type:"train.stop", runId}               stops after the current iteration, keeps a checkpoint
 *   {type:"train.resume", runId}             continues exactly from the last checkpoint
 *   {type:"train.reset", runId}              forgets the checkpoint and curves; the next resume starts over
 *   {type:"train.compute"}                   -> {provider, note}: where ONNX sessions run with device "auto"
 * One run trains at a time (others queue). The loop runs one iteration per
 * event-loop turn so the engine keeps streaming. Curves go out as
 * "train.progress" events (at most 4 a second) and are stored with a
 * checkpoint every 10 seconds, so an engine restart loses at most that.
 * A finished run is evaluated (in-sample and out-of-sample for trading) and
 * its policy is registered as an ONNX model.
 */
import { randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import type { Logger } from "pino";
import { z } from "zod";
import type { EventBus } from "./events";
import { TrainConfigError } from "./rl/train/config";
import { chooseProvider } from "./rl/onnx/runtime";
import { type CurvePoint, type TrainDeps, TrainingSession } from "./rl/train/session";
import { getTrainingCheckpoint, getTrainingRun, markInterruptedRuns, saveModel, createTrainingRun, updateTrainingRun } from "./store/training";
import type { Sql } from "./store/sql";
import { loadStoredBars } from "./store/stored-bars";
import type { Timeframe } from "./data/types";

const commandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("train.start"), config: z.unknown(), userId: z.string().max(100).optional() }),
  z.object({ type: z.literal("train.stop"), runId: z.string().min(1) }),
  z.object({ type: z.literal("train.resume"), runId: z.string().min(1) }),
  z.object({ type: z.literal("train.reset"), runId: z.string().min(1) }),
  z.object({ type: z.literal("train.compute") }),
]);

let codeVersionMemo: string | null = null;
/** The git commit of the running code, or the package version when not a checkout. */
export function codeVersion(): string {
  if (codeVersionMemo) return codeVersionMemo;
  try {
    codeVersionMemo = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    codeVersionMemo = `tradeforge@${process.env.npm_package_version ?? "0.1.0"}`;
  }
  return codeVersionMemo;
}

export function trainDeps(sql: Sql): TrainDeps {
  return {
    loadBars: async (symbol, timeframe) => {
      const { bars, instrument } = await loadStoredBars(sql, symbol.toUpperCase(), timeframe as Timeframe);
      if (bars.length === 0) throw new Error(`no stored bars for ${symbol} ${timeframe}`);
      return { bars, instrument };
    },
  };
}

export class TrainService {
  private queue: Promise<void> = Promise.resolve();
  private readonly stopping = new Set<string>();
  private readonly active = new Set<string>();
  private readonly queued = new Set<string>();

  constructor(
    private readonly sql: Sql,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly deps: TrainDeps = trainDeps(sql),
  ) {}

  /** Runs left running by a previous engine become stopped (resumable). */
  async recover(): Promise<void> {
    const n = await markInterruptedRuns(this.sql);
    if (n) this.logger.info({ runs: n }, "training runs interrupted by the last shutdown are stopped; resume continues them");
  }

  idle(): Promise<void> {
    return this.queue;
  }

  async handle(body: unknown): Promise<{ status: number; body: unknown } | undefined> {
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !type.startsWith("train.")) return undefined;
    const parsed = commandSchema.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: "invalid command", fieldErrors: z.flattenError(parsed.error).fieldErrors } };
    const cmd = parsed.data;
    switch (cmd.type) {
      case "train.start": {
        let session: TrainingSession;
        try {
          session = await TrainingSession.create(cmd.config, this.deps);
        } catch (e) {
          if (e instanceof TrainConfigError) return { status: 400, body: { error: e.message, field: e.field } };
          throw e;
        }
        const c = session.config;
        const id = randomUUID();
        const name = c.name ?? `${c.algo.toUpperCase()} ${c.env === "trading" ? `${c.trading!.symbol} ${c.trading!.timeframe}` : "CartPole"} seed ${c.seed}`;
        await createTrainingRun(this.sql, { id, name, env: c.env, algo: c.algo, seed: c.seed, config: cmd.config, totalSteps: session.totalSteps, createdById: cmd.userId ?? null });
        this.enqueue(id, session, cmd.userId ?? null);
        return { status: 200, body: { ok: true, runId: id } };
      }
      case "train.stop": {
        if (!this.active.has(cmd.runId) && !this.queued.has(cmd.runId)) return { status: 404, body: { error: `run ${cmd.runId} is not training` } };
        this.stopping.add(cmd.runId);
        return { status: 200, body: { ok: true } };
      }
      case "train.resume": {
        const run = await getTrainingRun(this.sql, cmd.runId);
        if (!run) return { status: 404, body: { error: `no training run ${cmd.runId}` } };
        if (this.active.has(run.id) || this.queued.has(run.id)) return { status: 400, body: { error: "the run is already training" } };
        if (run.status === "done") return { status: 400, body: { error: "the run has finished; start a new one (or reset this one)" } };
        const ck = await getTrainingCheckpoint(this.sql, run.id);
        let session: TrainingSession;
        try {
          session = await TrainingSession.create(run.config, this.deps, ck ?? undefined);
        } catch (e) {
          if (e instanceof TrainConfigError) return { status: 400, body: { error: e.message, field: e.field } };
          throw e;
        }
        if (ck) session.curves.push(...(((run.curves as CurvePoint[] | null) ?? []) as CurvePoint[]));
        await updateTrainingRun(this.sql, run.id, { status: "running", error: null });
        this.enqueue(run.id, session, run.createdById);
        return { status: 200, body: { ok: true, runId: run.id, fromStep: session.globalStep } };
      }
      case "train.compute": {
        // what a run with device "auto" would use on this engine's machine, and why (shown on the Training page)
        const c = await chooseProvider("auto");
        return { status: 200, body: { provider: c.provider, note: c.note } };
      }
      case "train.reset": {
        const run = await getTrainingRun(this.sql, cmd.runId);
        if (!run) return { status: 404, body: { error: `no training run ${cmd.runId}` } };
        if (this.active.has(run.id) || this.queued.has(run.id)) return { status: 400, body: { error: "stop the run before resetting it" } };
        await updateTrainingRun(this.sql, run.id, { status: "stopped", steps: 0, checkpoint: null, curves: [], summary: null, error: null });
        this.publish(run.id, run.name, "stopped", 0, run.totalSteps, null);
        return { status: 200, body: { ok: true } };
      }
    }
  }

  private publish(runId: string, name: string, status: string, step: number, totalSteps: number, point: CurvePoint | null, error: string | null = null, modelId: string | null = null): void {
    this.bus.publish({ type: "train.progress", data: { runId, name, status, step, totalSteps, point, error, modelId } });
  }

  private enqueue(id: string, session: TrainingSession, userId: string | null): void {
    this.queued.add(id);
    this.queue = this.queue.then(() => this.run(id, session, userId)).catch(() => {});
  }

  private async run(id: string, session: TrainingSession, userId: string | null): Promise<void> {
    this.queued.delete(id);
    this.active.add(id);
    const total = session.totalSteps;
    const row = await getTrainingRun(this.sql, id);
    const name = row?.name ?? id;
    let lastPublish = 0;
    let lastSave = performance.now();
    try {
      this.publish(id, name, "running", session.globalStep, total, null);
      while (!session.done) {
        if (this.stopping.has(id)) break;
        const p = session.step();
        const now = performance.now();
        if (now - lastPublish > 250) {
          lastPublish = now;
          this.publish(id, name, "running", p.step, total, p);
        }
        if (now - lastSave > 10_000) {
          lastSave = now;
          await updateTrainingRun(this.sql, id, { steps: session.globalStep, curves: session.curves, checkpoint: session.checkpoint() });
        }
        await new Promise<void>((r) => setImmediate(r));
      }
      if (!session.done) {
        await updateTrainingRun(this.sql, id, { status: "stopped", steps: session.globalStep, curves: session.curves, checkpoint: session.checkpoint() });
        this.publish(id, name, "stopped", session.globalStep, total, session.curves.at(-1) ?? null);
        this.logger.info({ runId: id, step: session.globalStep }, "training stopped");
        return;
      }
      const report = session.evaluate();
      const onnx = session.policyOnnx();
      const modelId = randomUUID();
      const c = session.config;
      await saveModel(this.sql, {
        id: modelId,
        name,
        runId: id,
        algo: c.algo,
        env: c.env,
        hyperparams: { ...(c.algo === "ppo" ? c.ppo : c.dqn), numEnvs: session.env.numEnvs, steps: c.steps, network: onnx.spec },
        featureSpec: c.env === "trading" ? { window: c.trading!.window, features: "default", normalisation: "expanding (past only)", actions: c.trading!.actions, contractSize: c.trading!.contractSize, maxUnits: 1, cash: c.trading!.cash, unrealizedScale: c.trading!.cash * 0.01, flatAtSessionEnd: c.trading!.flatAtSessionEnd, obsSize: session.env.obsSize, numActions: session.env.numActions, symbol: c.trading!.symbol, timeframe: c.trading!.timeframe } : { obs: "CartPole-v1 state (x, x_dot, theta, theta_dot)" },
        dataSpans: report.trading?.spans ?? null,
        seed: c.seed,
        metrics: report,
        codeVersion: codeVersion(),
        onnx: onnx.bytes,
        createdById: userId,
      });
      await updateTrainingRun(this.sql, id, { status: "done", steps: session.globalStep, curves: session.curves, summary: { ...report, modelId }, checkpoint: session.checkpoint() });
      this.publish(id, name, "done", session.globalStep, total, session.curves.at(-1) ?? null, null, modelId);
      this.logger.info({ runId: id, modelId, steps: session.globalStep }, "training finished; model registered");
    } catch (e) {
      const msg = (e as Error).message;
      await updateTrainingRun(this.sql, id, { status: "failed", error: msg, steps: session.globalStep, curves: session.curves }).catch(() => {});
      this.publish(id, name, "failed", session.globalStep, total, null, msg);
      this.logger.warn({ runId: id, err: msg }, "training failed");
    } finally {
      this.active.delete(id);
      this.stopping.delete(id);
    }
  }
}
