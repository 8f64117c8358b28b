import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, roleProcedure } from "@/server/api/trpc";
import { BUILTIN_STRATEGIES } from "@/engine/core/strategies/builtin";
import { BuilderSpecError, EXAMPLE_SPEC, OPERATORS, validateBuilderSpec } from "@/engine/core/strategies/builder";
import { INDICATOR_DEFAULTS, INDICATOR_KINDS, INDICATOR_OUTPUTS, INDICATOR_PARAMS } from "@/engine/core/indicators";
import { TIMEFRAMES } from "@/engine/data/types";
import { CommissionSchema } from "@/engine/backtest/runner";
import { deleteRun, getOptimization, getRun, getSpec, listOptimizations, listRuns, listSpecs, saveSpec } from "@/engine/store/backtests";
import { listModels } from "@/engine/store/training";
import { EngineUnavailableError, engineClient } from "@/server/engine-client";

const paramValue = z.union([z.string(), z.number(), z.boolean()]);

/** What the UI and tRPC may start: stored series only (files are for the CLI). */
export const backtestInput = z.object({
  symbol: z.string().trim().toUpperCase().min(1, "Pick a symbol."),
  timeframe: z.enum(TIMEFRAMES),
  strategy: z.string().min(1, "Pick a strategy."),
  params: z.record(z.string(), paramValue).default({}),
  instrument: z.string().optional(),
  size: z.number().positive("Size must be positive.").optional(),
  cash: z.number().positive("Cash must be positive.").default(100_000),
  commission: CommissionSchema.optional(),
  slippageTicks: z.number().min(0).max(1000).default(0),
  sameBarPolicy: z.enum(["stop_first", "target_first"]).default("stop_first"),
  from: z.number().optional(),
  to: z.number().optional(),
});

export function toEngineConfig(i: z.output<typeof backtestInput>) {
  return {
    data: { kind: "series" as const, symbol: i.symbol, timeframe: i.timeframe },
    strategy: i.strategy,
    params: i.params,
    ...(i.instrument ? { instrument: i.instrument } : {}),
    ...(i.size !== undefined ? { size: i.size } : {}),
    cash: i.cash,
    ...(i.commission ? { commission: i.commission } : {}),
    slippage: i.slippageTicks > 0 ? { kind: "ticks" as const, ticks: i.slippageTicks } : { kind: "none" as const },
    sameBarPolicy: i.sameBarPolicy,
    ...(i.from !== undefined ? { from: i.from } : {}),
    ...(i.to !== undefined ? { to: i.to } : {}),
  };
}

async function engineCommand(ctx: { deps: { env: { engineUrl: string }; engineSecret: string } }, body: unknown, what: string): Promise<Record<string, unknown>> {
  let res;
  try {
    res = await engineClient(ctx.deps.env.engineUrl, ctx.deps.engineSecret, 30_000).command(body);
  } catch (err) {
    if (err instanceof EngineUnavailableError) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: `Engine offline: ${what} run in the engine.` });
    throw err;
  }
  const b = res.body as { error?: string; field?: string } & Record<string, unknown>;
  if (res.status !== 200) {
    throw new TRPCError({ code: res.status === 404 ? "NOT_FOUND" : "BAD_REQUEST", message: b.error ?? `engine refused (HTTP ${res.status})`, cause: b.field ? new FieldError(b.field) : undefined });
  }
  return b;
}

class FieldError extends Error {
  constructor(readonly field: string) {
    super(field);
  }
}

export const backtestRouter = createTRPCRouter({
  /** Built-in strategies with their parameters, and the saved builder strategies. */
  strategies: roleProcedure("viewer").query(async ({ ctx }) => ({
    builtin: BUILTIN_STRATEGIES.map((s) => ({ id: s.id, name: s.name, description: s.description, params: s.params.map((p) => ({ ...p, options: p.options ? [...p.options] : undefined })) })),
    builder: await listSpecs(ctx.deps.sql()),
  })),

  /** Registered RL models a backtest can use as strategy model:<id> (metadata only, never the ONNX bytes). */
  models: roleProcedure("viewer").query(async ({ ctx }) =>
    (await listModels(ctx.deps.sql(), 200)).map((m) => {
      const fs = (m.featureSpec ?? {}) as { symbol?: unknown; timeframe?: unknown };
      return {
        id: m.id,
        name: m.name,
        algo: m.algo,
        env: m.env,
        createdAt: m.createdAt,
        symbol: typeof fs.symbol === "string" ? fs.symbol : null,
        timeframe: typeof fs.timeframe === "string" ? fs.timeframe : null,
      };
    }),
  ),

  run: roleProcedure("trader")
    .input(backtestInput)
    .mutation(async ({ ctx, input }) => {
      const b = await engineCommand(ctx, { type: "backtest.start", config: toEngineConfig(input), userId: ctx.user.id }, "backtests");
      return { runId: String(b.runId) };
    }),

  cancel: roleProcedure("trader")
    .input(z.object({ runId: z.string().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await engineCommand(ctx, { type: "backtest.cancel", runId: input.runId }, "backtests");
      return { ok: true };
    }),

  list: roleProcedure("viewer")
    .input(z.object({ limit: z.number().int().min(1).max(500).default(50) }).default({ limit: 50 }))
    .query(async ({ ctx, input }) => listRuns(ctx.deps.sql(), { limit: input.limit })),

  get: roleProcedure("viewer")
    .input(z.object({ id: z.string().min(1) }))
    .query(async ({ ctx, input }) => {
      const run = await getRun(ctx.deps.sql(), input.id);
      if (!run) throw new TRPCError({ code: "NOT_FOUND", message: `No backtest ${input.id}.` });
      return run;
    }),

  delete: roleProcedure("trader")
    .input(z.object({ id: z.string().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await deleteRun(ctx.deps.sql(), input.id);
      return { ok: true };
    }),

  // ---------------------------------------------------------------- builder

  /** What the builder offers: indicators with their parameters and outputs, operators, an example. */
  builderCatalog: roleProcedure("viewer").query(() => ({
    indicators: INDICATOR_KINDS.map((k) => ({ kind: k, defaults: INDICATOR_DEFAULTS[k], params: INDICATOR_PARAMS[k], outputs: [...INDICATOR_OUTPUTS[k]] })),
    operators: [...OPERATORS],
    example: EXAMPLE_SPEC,
  })),

  specs: roleProcedure("viewer").query(async ({ ctx }) => listSpecs(ctx.deps.sql())),

  spec: roleProcedure("viewer")
    .input(z.object({ name: z.string().min(1), version: z.number().int().positive().optional() }))
    .query(async ({ ctx, input }) => {
      const s = await getSpec(ctx.deps.sql(), input.name, input.version);
      if (!s) throw new TRPCError({ code: "NOT_FOUND", message: `No builder strategy ${input.name}.` });
      return s;
    }),

  /** Checks a spec without saving: field-level errors, or ok. */
  validateSpec: roleProcedure("viewer")
    .input(z.object({ spec: z.unknown() }))
    .mutation(({ input }) => {
      try {
        validateBuilderSpec(input.spec);
        return { ok: true as const, issues: [] };
      } catch (e) {
        if (e instanceof BuilderSpecError) return { ok: false as const, issues: e.issues };
        throw e;
      }
    }),

  /** Saves a new version of a builder strategy (validated first). */
  saveSpec: roleProcedure("trader")
    .input(z.object({ spec: z.unknown() }))
    .mutation(async ({ ctx, input }) => {
      let spec;
      try {
        spec = validateBuilderSpec(input.spec);
      } catch (e) {
        if (e instanceof BuilderSpecError) return { ok: false as const, issues: e.issues };
        throw e;
      }
      const row = await saveSpec(ctx.deps.sql(), spec.name, spec, ctx.user.id);
      return { ok: true as const, issues: [], name: row.name, version: row.version };
    }),

  // ---------------------------------------------------------------- optimisation

  optimize: roleProcedure("trader")
    .input(z.object({ job: z.record(z.string(), z.unknown()) }))
    .mutation(async ({ ctx, input }) => {
      const job = input.job as { backtest?: unknown };
      const bt = backtestInput.safeParse(job.backtest);
      if (!bt.success) throw new TRPCError({ code: "BAD_REQUEST", message: `backtest: ${bt.error.issues[0]?.path.join(".")}: ${bt.error.issues[0]?.message}` });
      const b = await engineCommand(ctx, { type: "optimize.start", job: { ...input.job, backtest: toEngineConfig(bt.data) }, userId: ctx.user.id }, "optimisations");
      return { optimizationId: String(b.optimizationId) };
    }),

  cancelOptimization: roleProcedure("trader")
    .input(z.object({ optimizationId: z.string().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await engineCommand(ctx, { type: "optimize.cancel", optimizationId: input.optimizationId }, "optimisations");
      return { ok: true };
    }),

  optimizations: roleProcedure("viewer").query(async ({ ctx }) => listOptimizations(ctx.deps.sql())),

  optimization: roleProcedure("viewer")
    .input(z.object({ id: z.string().min(1) }))
    .query(async ({ ctx, input }) => {
      const o = await getOptimization(ctx.deps.sql(), input.id);
      if (!o) throw new TRPCError({ code: "NOT_FOUND", message: `No optimisation ${input.id}.` });
      return o;
    }),
});
