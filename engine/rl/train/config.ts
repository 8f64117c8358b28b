/**
 * A training run's configuration (CLI --config FILE.json, the app, the engine).
 * Validated with zod; errors name the field.
 */
import { z } from "zod";
import { TIMEFRAMES } from "../../data/types";

const int = () => z.number().int("must be a whole number");

export const PpoOptionsSchema = z
  .object({
    learningRate: z.number().positive().max(1).optional(),
    annealLr: z.boolean().optional(),
    numSteps: int().min(1).max(100_000).optional(),
    gamma: z.number().min(0).max(1).optional(),
    gaeLambda: z.number().min(0).max(1).optional(),
    numMinibatches: int().min(1).max(1024).optional(),
    updateEpochs: int().min(1).max(100).optional(),
    normAdv: z.boolean().optional(),
    clipCoef: z.number().positive().max(10).optional(),
    clipVloss: z.boolean().optional(),
    entCoef: z.number().min(0).max(10).optional(),
    vfCoef: z.number().min(0).max(10).optional(),
    maxGradNorm: z.number().positive().optional(),
    targetKl: z.number().positive().nullable().optional(),
    hidden: z.array(int().min(1).max(4096)).min(1).max(8).optional(),
    activation: z.enum(["tanh", "relu"]).optional(),
    /** Where each gradient update runs: "ts" (plain TypeScript) or "onnx" (one float64 ONNX graph on onnxruntime-node). */
    backend: z.enum(["ts", "onnx"]).optional(),
    /** "mlp" (default) or "attention": a transformer-attention encoder over the observation window with an MLP head of `hidden` (trading env, onnx backend). */
    network: z.enum(["mlp", "attention"]).optional(),
    attention: z
      .object({
        dModel: int().min(2).max(256).optional(),
        heads: int().min(1).max(16).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const d = p.attention?.dModel ?? 32;
    const h = p.attention?.heads ?? 4;
    if (d % h !== 0) ctx.addIssue({ code: "custom", path: ["attention", "heads"], message: `must divide attention.dModel (${d}), got ${h}` });
    if (p.network === "attention" && p.backend === "ts") ctx.addIssue({ code: "custom", path: ["backend"], message: "attention networks train through the ONNX graph: use backend onnx" });
  });

export const DqnOptionsSchema = z
  .object({
    learningRate: z.number().positive().max(1).optional(),
    bufferSize: int().min(1).max(10_000_000).optional(),
    gamma: z.number().min(0).max(1).optional(),
    tau: z.number().positive().max(1).optional(),
    targetNetworkFrequency: int().min(1).optional(),
    batchSize: int().min(1).max(65_536).optional(),
    startE: z.number().min(0).max(1).optional(),
    endE: z.number().min(0).max(1).optional(),
    explorationFraction: z.number().min(0).max(1).optional(),
    learningStarts: int().min(0).optional(),
    trainFrequency: int().min(1).optional(),
    hidden: z.array(int().min(1).max(4096)).min(1).max(8).optional(),
    activation: z.enum(["tanh", "relu"]).optional(),
    double: z.boolean().optional(),
    dueling: z.boolean().optional(),
    nStep: int().min(1).max(100).optional(),
    loss: z.enum(["mse", "huber"]).optional(),
    maxGradNorm: z.number().positive().nullable().optional(),
    /** Where each gradient update runs: "ts" (plain TypeScript) or "onnx" (one float64 ONNX graph on onnxruntime-node). */
    backend: z.enum(["ts", "onnx"]).optional(),
  })
  .strict();

export const TradingOptionsSchema = z
  .object({
    symbol: z.string().min(1),
    timeframe: z.enum(TIMEFRAMES),
    /** Fractions of the bars, by time: train | validation | test (the test span never touches training or tuning). */
    split: z.object({ train: z.number().positive().max(1), validation: z.number().min(0).max(1), test: z.number().positive().max(1) }).strict().default({ train: 0.6, validation: 0.2, test: 0.2 }),
    window: int().min(1).max(512).default(16),
    episodeLength: int().min(0).default(512),
    actions: z.enum(["target", "trade"]).default("target"),
    contractSize: z.number().positive().default(1),
    reward: z.enum(["pnl", "pnl_drawdown", "dsr"]).default("pnl"),
    drawdownPenalty: z.number().min(0).default(0.1),
    cash: z.number().positive().default(100_000),
    flatAtSessionEnd: z.boolean().default(false),
    /**
     * Walk-forward folds over the development part (train + validation): the part is cut into
     * folds + 1 blocks; fold i trains a fresh policy on blocks 0..i (anchored) or block i (rolling)
     * and is measured on block i + 1. Then the final policy trains on the train span as usual and
     * is tested once on the test span. Each training runs `steps` environment steps.
     */
    walkForward: z.object({ folds: int().min(2).max(10), anchored: z.boolean().default(true) }).strict().optional(),
    /** Extra features by name for tests and research: "next_return" plants a look-ahead the check must catch. */
    plantLookAhead: z.boolean().default(false),
  })
  .strict();

export const TrainConfigSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    env: z.enum(["cartpole", "trading"]),
    algo: z.enum(["ppo", "dqn"]),
    steps: int().min(1).max(100_000_000),
    seed: int().min(0).max(2 ** 31 - 1).default(1),
    numEnvs: int().min(1).max(1024).optional(),
    /** Where the ONNX sessions run: "auto" (CUDA when usable, else the CPU), "cpu", or "cuda" (a missing GPU is reported and the CPU used). */
    device: z.enum(["auto", "cpu", "cuda"]).default("auto"),
    ppo: PpoOptionsSchema.default({}),
    dqn: DqnOptionsSchema.default({}),
    trading: TradingOptionsSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.env === "trading" && !c.trading) ctx.addIssue({ code: "custom", path: ["trading"], message: "a trading run needs trading settings (symbol, timeframe, ...)" });
    if (c.env === "cartpole" && c.trading) ctx.addIssue({ code: "custom", path: ["trading"], message: "trading settings are for env trading" });
    if (c.env === "cartpole" && c.ppo.network === "attention") ctx.addIssue({ code: "custom", path: ["ppo", "network"], message: "attention attends over a window of feature rows: use it with env trading (CartPole's observation is 4 numbers)" });
    if (c.algo === "dqn" && c.ppo.network === "attention") ctx.addIssue({ code: "custom", path: ["ppo", "network"], message: "attention networks are for PPO" });
    if (c.trading) {
      const s = c.trading.split;
      if (s.train + s.validation + s.test > 1 + 1e-9) ctx.addIssue({ code: "custom", path: ["trading", "split"], message: "train + validation + test must be at most 1" });
    }
  });

export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

/** Environment steps of a whole run: `steps` per walk-forward fold plus the final training. */
export function trainingTotalSteps(c: { steps: number; trading?: { walkForward?: { folds: number } } | null }): number {
  return c.steps * ((c.trading?.walkForward?.folds ?? 0) + 1);
}
export type TrainConfig = z.output<typeof TrainConfigSchema>;

export class TrainConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message.startsWith(`${field}:`) ? message : `${field}: ${message}`);
    this.name = "TrainConfigError";
  }
}

export function parseTrainConfig(input: unknown): TrainConfig {
  const r = TrainConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.map(String).join(".") || "config";
    throw new TrainConfigError(field, issue.message);
  }
  return r.data;
}
