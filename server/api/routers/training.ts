import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, roleProcedure } from "@/server/api/trpc";
import { deleteModel, getModel, getTrainingRun, listModels, listTrainingRuns } from "@/engine/store/training";
import { getTuning, listTunings } from "@/engine/store/tuning";
import { type NetworkSpecLike, networkObsSize, networkViewOf } from "@/engine/rl/train/network";
import { EngineUnavailableError, engineClient } from "@/server/engine-client";

async function engineCommand(ctx: { deps: { env: { engineUrl: string }; engineSecret: string } }, body: unknown): Promise<Record<string, unknown>> {
  let res;
  try {
    res = await engineClient(ctx.deps.env.engineUrl, ctx.deps.engineSecret, 60_000).command(body);
  } catch (err) {
    if (err instanceof EngineUnavailableError) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "Engine offline: training runs in the engine." });
    throw err;
  }
  const b = res.body as { error?: string; field?: string } & Record<string, unknown>;
  if (res.status !== 200) throw new TRPCError({ code: res.status === 404 ? "NOT_FOUND" : "BAD_REQUEST", message: b.error ?? `engine refused (HTTP ${res.status})`, cause: b.field ? Object.assign(new Error(b.field), { field: b.field }) : undefined });
  return b;
}

export const trainingRouter = createTRPCRouter({
  /** Start a run: the same JSON a `npm run train -- --config FILE.json` takes. */
  start: roleProcedure("trader")
    .input(z.object({ config: z.record(z.string(), z.unknown()) }))
    .mutation(async ({ ctx, input }) => ({ runId: String((await engineCommand(ctx, { type: "train.start", config: input.config, userId: ctx.user.id })).runId) })),

  /** The engine's compute for training (the ONNX execution provider device "auto" picks, and why). */
  compute: roleProcedure("viewer").query(async ({ ctx }) => {
    const r = await engineCommand(ctx, { type: "train.compute" });
    return { provider: String(r.provider), note: typeof r.note === "string" ? r.note : null };
  }),

  stop: roleProcedure("trader")
    .input(z.object({ runId: z.string().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await engineCommand(ctx, { type: "train.stop", runId: input.runId });
      return { ok: true };
    }),

  resume: roleProcedure("trader")
    .input(z.object({ runId: z.string().min(1) }))
    .mutation(async ({ ctx, input }) => ({ fromStep: Number((await engineCommand(ctx, { type: "train.resume", runId: input.runId })).fromStep ?? 0) })),

  reset: roleProcedure("trader")
    .input(z.object({ runId: z.string().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await engineCommand(ctx, { type: "train.reset", runId: input.runId });
      return { ok: true };
    }),

  runs: roleProcedure("viewer").query(async ({ ctx }) => listTrainingRuns(ctx.deps.sql())),

  /** One run with its curves (each run's own; never mixed with another's). */
  run: roleProcedure("viewer")
    .input(z.object({ id: z.string().min(1) }))
    .query(async ({ ctx, input }) => {
      const r = await getTrainingRun(ctx.deps.sql(), input.id);
      if (!r) throw new TRPCError({ code: "NOT_FOUND", message: `No training run ${input.id}.` });
      return r;
    }),

  models: roleProcedure("viewer").query(async ({ ctx }) => listModels(ctx.deps.sql())),

  /** Layers, weights and activations of a registered policy for one observation (default: all zeros). */
  network: roleProcedure("viewer")
    .input(z.object({ modelId: z.string().min(1), obs: z.array(z.number().finite()).max(100_000).optional() }))
    .query(async ({ ctx, input }) => {
      const m = await getModel(ctx.deps.sql(), input.modelId);
      if (!m) throw new TRPCError({ code: "NOT_FOUND", message: `No model ${input.modelId}.` });
      const hp = m.hyperparams as { network?: NetworkSpecLike; dueling?: boolean };
      if (!hp.network) throw new TRPCError({ code: "BAD_REQUEST", message: "This model has no network description." });
      const obs = input.obs ?? new Array<number>(networkObsSize(hp.network)).fill(0);
      try {
        return await networkViewOf(new Uint8Array(m.onnx), hp.network, obs, hp.dueling === true);
      } catch (e) {
        throw new TRPCError({ code: "BAD_REQUEST", message: `obs: ${(e as Error).message}` });
      }
    }),

  /** RL hyperparameter search (engine/rl/tune): start / stop / resume in the engine; every objective is on the validation span. */
  tune: createTRPCRouter({
    /** The job runRlTuning takes: {base, space, population, generations, mutationRate?, crossoverRate?, elite?, seed?, workers?}. */
    start: roleProcedure("trader")
      .input(z.object({ job: z.record(z.string(), z.unknown()) }))
      .mutation(async ({ ctx, input }) => ({ tuneId: String((await engineCommand(ctx, { type: "tune.start", job: input.job, userId: ctx.user.id })).tuneId) })),

    stop: roleProcedure("trader")
      .input(z.object({ tuneId: z.string().min(1) }))
      .mutation(async ({ ctx, input }) => {
        await engineCommand(ctx, { type: "tune.stop", tuneId: input.tuneId });
        return { ok: true };
      }),

    /** Continues from the stored state; `generations` may extend the search (also a finished one). */
    resume: roleProcedure("trader")
      .input(z.object({ tuneId: z.string().min(1), generations: z.number().int().min(0).max(10_000).optional() }))
      .mutation(async ({ ctx, input }) => {
        const b = await engineCommand(ctx, { type: "tune.resume", tuneId: input.tuneId, ...(input.generations !== undefined ? { generations: input.generations } : {}) });
        return { fromGeneration: Number(b.fromGeneration ?? 0), reusedTrials: Number(b.reusedTrials ?? 0) };
      }),
  }),

  /** Past searches, newest first, without their state and result. */
  tunings: roleProcedure("viewer").query(async ({ ctx }) => listTunings(ctx.deps.sql())),

  /**
   * One search: the stored result when it has one (done, or up to a stop);
   * while it runs, the trials of the stored state (every completed generation
   * and the finished trials of the current one) as `progressTrials`.
   */
  tuning: roleProcedure("viewer")
    .input(z.object({ id: z.string().min(1) }))
    .query(async ({ ctx, input }) => {
      const r = await getTuning(ctx.deps.sql(), input.id);
      if (!r) throw new TRPCError({ code: "NOT_FOUND", message: `No tuning ${input.id}.` });
      const { state, ...row } = r;
      const st = state as { trials?: unknown[]; partial?: unknown[]; generations?: unknown[] } | null;
      const progressTrials = r.result === null && st ? [...(st.trials ?? []), ...(st.partial ?? [])] : null;
      return { ...row, progressTrials, progressGenerations: r.result === null && st ? (st.generations ?? []) : null };
    }),

  deleteModel: roleProcedure("trader")
    .input(z.object({ id: z.string().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await deleteModel(ctx.deps.sql(), input.id);
      return { ok: true };
    }),
});
