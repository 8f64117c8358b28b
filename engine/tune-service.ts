/**
 * RL hyperparameter searches in the engine (engine/rl/tune: a genetic,
 * NSGA-II style search over PPO / DQN and network hyperparameters, every
 * trial scored on the VALIDATION span), driven by commands:
 *   {type:"tune.start", job, userId?}           -> {tuneId}   (400 {error, field} for an invalid job)
 *   {type:"tune.stop", tuneId}                   a running search stops promptly (see STOPPING) and keeps the
 *                                                trials that finished; a queued one leaves the queue
 *   {type:"tune.resume", tuneId, generations?}   continues from the stored state (resumeRlTuning): finished
 *                                                generations and finished trials are never trained again;
 *                                                `generations` may extend a search (also a finished one)
 * Searches run one at a time (others queue). Trials run on worker threads
 * (the job's `workers`, default min(cores, 2); 0 = in-process), so the engine
 * keeps serving. Progress goes out as "tune.progress" events (at most 4 a
 * second, and at every generation boundary); the resumable state is stored
 * after every generation (hooks.onState), the result when the search ends or
 * stops. An engine restart marks the searches it interrupted "stopped":
 * resume continues from the last stored state.
 *
 * STOPPING: a stop is prompt, with worker threads as in-process. The trials
 * in flight are cancelled at their next training iteration: in-process the
 * search's shouldStop is polled between iterations; with workers the tuning
 * pool (rl/tune/pool.ts) posts a "stop" message to each busy worker, whose
 * trial releases its ONNX Runtime session and answers cancelled (a worker is
 * never terminated in the middle of an ORT call: that aborts the whole
 * process). Cancelled trials are simply trained again on resume; the trials
 * that finished before the stop are stored (state.partial) and reused, and
 * the search resumes from the last completed generation.
 *
 * Trading data comes from the store (train-service.ts trainDeps), loaded once
 * when the command is accepted, so a missing series is refused at once,
 * naming base.trading.symbol.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { z } from "zod";
import type { EventBus, TuneFrontPoint, TuneProgressData } from "./events";
import type { TrainDeps } from "./rl/train/session";
import { parseRlTuneJob, resumeRlTuning, RlTuneError, type RlTuneJob, type RlTuneProgress, type RlTuneResult, type RlTuneState, runRlTuning } from "./rl/tune/search";
import { RlSpaceError } from "./rl/tune/space";
import type { TrialData } from "./rl/tune/trial";
import type { Sql } from "./store/sql";
import { createTuning, getTuning, markInterruptedTunings, type TuningPatch, type TuningStatus, updateTuning } from "./store/tuning";
import { trainDeps } from "./train-service";

const commandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("tune.start"), job: z.unknown(), userId: z.string().max(100).optional() }),
  z.object({ type: z.literal("tune.stop"), tuneId: z.string().min(1) }),
  z.object({ type: z.literal("tune.resume"), tuneId: z.string().min(1), generations: z.number().int().min(0).max(10_000).optional() }),
]);

/** Front points carried by one progress event (the stored result has them all). */
export const FRONT_EVENT_LIMIT = 100;
const PUBLISH_MS = 250;
const SAVE_MS = 2000;

type Reply = { status: number; body: unknown };

interface Ticket {
  n: number;
  data: TrialData | null;
  generations?: number;
}

function fieldError(e: unknown): Reply | null {
  if (e instanceof RlTuneError || e instanceof RlSpaceError) return { status: 400, body: { error: e.message, field: e.field } };
  return null;
}

export class TuneService {
  private queue: Promise<void> = Promise.resolve();
  private readonly stopping = new Set<string>();
  private readonly active = new Set<string>();
  /** Queued searches and the ticket of their latest enqueue (a stop while queued withdraws it). */
  private readonly queued = new Map<string, Ticket>();
  private tickets = 0;

  constructor(
    private readonly sql: Sql,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly deps: TrainDeps = trainDeps(sql),
  ) {}

  /** Searches left queued or running by a previous engine become stopped (resumable). */
  async recover(): Promise<void> {
    const n = await markInterruptedTunings(this.sql);
    if (n) this.logger.info({ tunings: n }, "RL tunings interrupted by the last shutdown are stopped; resume continues them from the last completed generation");
  }

  idle(): Promise<void> {
    return this.queue;
  }

  async handle(body: unknown): Promise<Reply | undefined> {
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !type.startsWith("tune.")) return undefined;
    const parsed = commandSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join(".") || "command";
      const message = field === "job" ? "a tuning job is required" : issue.message;
      return { status: 400, body: { error: `${field}: ${message}`, field, fieldErrors: z.flattenError(parsed.error).fieldErrors } };
    }
    const cmd = parsed.data;
    switch (cmd.type) {
      case "tune.start": {
        let job: RlTuneJob;
        try {
          job = parseRlTuneJob(cmd.job).job;
        } catch (e) {
          const r = fieldError(e);
          if (r) return r;
          throw e;
        }
        const loaded = await this.loadData(job);
        if ("status" in loaded) return loaded;
        const id = randomUUID();
        const total = job.population * (job.generations + 1);
        await createTuning(this.sql, { id, job, total, status: "queued", createdById: cmd.userId ?? null });
        this.enqueue(id, loaded.data);
        this.publish({ tuneId: id, generation: 0, done: 0, total, status: "queued", error: null, front: [] });
        return { status: 200, body: { ok: true, tuneId: id } };
      }
      case "tune.stop": {
        const q = this.queued.get(cmd.tuneId);
        if (q) {
          // withdrawn from the queue: its turn is skipped (the ticket no longer matches)
          this.queued.delete(cmd.tuneId);
          const row = await getTuning(this.sql, cmd.tuneId);
          await updateTuning(this.sql, cmd.tuneId, { status: "stopped" });
          this.publish({ tuneId: cmd.tuneId, generation: Math.max(0, (row?.generation ?? -1) + 1), done: row?.done ?? 0, total: row?.total ?? 0, status: "stopped", error: null, front: [] });
          return { status: 200, body: { ok: true } };
        }
        if (!this.active.has(cmd.tuneId)) return { status: 404, body: { error: `tuning ${cmd.tuneId} is not running` } };
        this.stopping.add(cmd.tuneId);
        return { status: 200, body: { ok: true } };
      }
      case "tune.resume": {
        const row = await getTuning(this.sql, cmd.tuneId);
        if (!row) return { status: 404, body: { error: `no tuning ${cmd.tuneId}` } };
        if (this.active.has(row.id) || this.queued.has(row.id)) return { status: 400, body: { error: "the tuning is already running or queued" } };
        let job: RlTuneJob;
        try {
          job = parseRlTuneJob(row.job).job;
        } catch (e) {
          const r = fieldError(e);
          if (r) return r;
          throw e;
        }
        if (cmd.generations !== undefined && cmd.generations < job.generations) return { status: 400, body: { error: `generations: the search was planned for ${job.generations}; resume can only keep or extend that`, field: "generations" } };
        const extend = cmd.generations !== undefined && cmd.generations > job.generations;
        if (row.status === "done" && !extend) return { status: 400, body: { error: "the tuning has finished; resume it with more generations to extend it, or start a new one", field: "generations" } };
        const loaded = await this.loadData(job);
        if ("status" in loaded) return loaded;
        const generations = extend ? cmd.generations! : job.generations;
        const total = job.population * (generations + 1);
        const patch: TuningPatch = { status: "queued", error: null, result: null, total };
        if (extend) patch.job = { ...job, generations };
        await updateTuning(this.sql, row.id, patch);
        this.enqueue(row.id, loaded.data, extend ? generations : undefined);
        this.publish({ tuneId: row.id, generation: Math.max(0, row.generation + 1), done: row.done, total, status: "queued", error: null, front: [] });
        const state = row.state as { generation?: unknown; partial?: unknown[] } | null;
        return { status: 200, body: { ok: true, tuneId: row.id, fromGeneration: typeof state?.generation === "number" ? state.generation + 1 : 0, reusedTrials: Array.isArray(state?.partial) ? state.partial.length : 0 } };
      }
    }
  }

  /** Trading: the job's series, loaded now so that a missing one is refused before anything is queued. */
  private async loadData(job: RlTuneJob): Promise<{ data: TrialData | null } | Reply> {
    if (job.base.env !== "trading") return { data: null };
    const t = job.base.trading!;
    if (!this.deps.loadBars) return { status: 400, body: { error: "base.trading: trading tuning needs stored market data", field: "base.trading" } };
    try {
      return { data: await this.deps.loadBars(t.symbol, t.timeframe) };
    } catch (e) {
      return { status: 400, body: { error: `base.trading.symbol: ${(e as Error).message}`, field: "base.trading.symbol" } };
    }
  }

  private publish(data: TuneProgressData): void {
    this.bus.publish({ type: "tune.progress", data });
  }

  private enqueue(id: string, data: TrialData | null, generations?: number): void {
    const ticket: Ticket = { n: ++this.tickets, data };
    if (generations !== undefined) ticket.generations = generations;
    this.queued.set(id, ticket);
    this.queue = this.queue
      .then(() => this.run(id, ticket))
      .catch((e: unknown) => this.logger.error({ tuneId: id, err: (e as Error).message }, "tuning queue error"));
  }

  private async run(id: string, ticket: Ticket): Promise<void> {
    if (this.queued.get(id)?.n !== ticket.n) return; // stopped while queued (or queued again since)
    this.queued.delete(id);
    this.active.add(id);
    // DB writes of one search go through one chain: a late progress save never lands after the final one
    let writes: Promise<void> = Promise.resolve();
    const write = (patch: TuningPatch): Promise<void> => {
      writes = writes.then(() => updateTuning(this.sql, id, patch)).catch((e: unknown) => this.logger.warn({ tuneId: id, err: (e as Error).message }, "storing tuning progress failed"));
      return writes;
    };
    let cur: { generation: number; done: number; total: number; front: TuneFrontPoint[] } = { generation: 0, done: 0, total: 0, front: [] };
    try {
      const row = await getTuning(this.sql, id);
      if (!row) return;
      const state = (row.state ?? undefined) as RlTuneState | undefined;
      const storedJob = row.job as RlTuneJob;
      cur = { generation: Math.max(0, row.generation + 1), done: row.done, total: row.total, front: [] };
      await write({ status: "running", error: null });
      this.publish({ tuneId: id, ...cur, status: "running", error: null });
      this.logger.info({ tuneId: id, resume: state !== undefined, fromGeneration: cur.generation }, "RL tuning started");

      let data = ticket.data;
      ticket.data = null; // the search keeps its own reference while it needs it
      const deps = {
        loadBars: async (symbol: string, timeframe: string) => {
          if (data) {
            const d = data;
            data = null;
            return d;
          }
          if (!this.deps.loadBars) throw new Error("no market data store");
          return this.deps.loadBars(symbol, timeframe);
        },
      };
      let lastPublish = 0;
      let lastSave = performance.now();
      let lastGen = -1;
      const hooks = {
        onProgress: (p: RlTuneProgress) => {
          cur = { generation: p.generation, done: p.done, total: p.total, front: p.front.slice(0, FRONT_EVENT_LIMIT) as TuneFrontPoint[] };
          const now = performance.now();
          if (now - lastPublish >= PUBLISH_MS || p.done >= p.total || p.generation !== lastGen) {
            lastPublish = now;
            lastGen = p.generation;
            this.publish({ tuneId: id, ...cur, status: "running", error: null });
          }
          if (now - lastSave >= SAVE_MS) {
            lastSave = now;
            void write({ done: p.done, total: p.total });
          }
        },
        // prompt with workers too: the trials in flight are cancelled at their next iteration (see STOPPING above)
        shouldStop: () => this.stopping.has(id),
        onState: async (s: RlTuneState) => {
          await write({ state: s, generation: s.generation, done: Math.max(cur.done, (s.generation + 1) * storedJob.population), total: cur.total || row.total });
        },
      };
      const result: RlTuneResult = state
        ? await resumeRlTuning(state, deps, hooks, { ...(ticket.generations !== undefined ? { generations: ticket.generations } : {}), ...(storedJob.workers !== undefined ? { workers: storedJob.workers } : {}) })
        : await runRlTuning(ticket.generations !== undefined ? { ...storedJob, generations: ticket.generations } : storedJob, deps, hooks);
      const { state: finalState, ...rest } = result;
      const status: TuningStatus = result.stopped ? "stopped" : "done";
      const total = cur.total || row.total;
      const done = result.stopped ? Math.max(cur.done, (finalState.generation + 1) * storedJob.population) : total;
      await write({ status, state: finalState, result: rest, generation: finalState.generation, done, total, error: null });
      const front = result.pareto.slice(0, FRONT_EVENT_LIMIT).map((t) => ({ id: t.id, hyperparams: t.hyperparams, objectives: t.objectives! })) as TuneFrontPoint[];
      this.publish({ tuneId: id, generation: Math.max(0, finalState.generation), done, total, status, error: null, front });
      this.logger.info({ tuneId: id, status, trials: result.trials.length, generation: finalState.generation, seconds: result.seconds, workers: result.workers, fallback: result.fallback }, result.stopped ? "RL tuning stopped" : "RL tuning finished");
    } catch (e) {
      const msg = (e as Error).message;
      await write({ status: "failed", error: msg });
      this.publish({ tuneId: id, ...cur, status: "failed", error: msg });
      this.logger.warn({ tuneId: id, err: msg }, "RL tuning failed");
    } finally {
      await writes;
      this.active.delete(id);
      this.stopping.delete(id);
    }
  }
}
