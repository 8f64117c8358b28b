/**
 * Hyperparameter spaces for reinforcement-learning tuning: which values of
 * which algorithm and network hyperparameters a search may try.
 *
 * A space has one section per algorithm (`ppo` or `dqn`; it must match the
 * base configuration's algo). Each entry is either a list of values (numbers,
 * booleans, enum options) or, for numeric hyperparameters, a range:
 *   { min, max, step }            linear grid (step defaults to 1 for whole numbers)
 *   { min, max, count }           `count` evenly spaced values
 *   { min, max, count, scale: "log" }  `count` log-spaced values (log-uniform
 *                                 on a grid: learning rates, coefficients)
 * The network is described by `hiddenWidth` and `hiddenDepth` (hidden =
 * depth x width); a missing one keeps the base configuration's value. PPO's
 * `network` may also vary between "mlp" and "attention" (trading runs).
 *
 * Every value is checked against the hyperparameter's bounds (the same as the
 * training configuration's) and errors name the field, e.g.
 * `space.ppo.learningRate.2: 3 is above the maximum 1`.
 *
 * Genome encoding: one index per dimension into its ordered values (numbers
 * ascending, duplicates removed), like engine/optimize/space.ts. Dimensions
 * are in a fixed canonical order (the order of the tables below), not the
 * order the keys were written in, so a genome means the same thing however
 * the space was spelled. Pure: no I/O.
 */
import { z } from "zod";
import { DQN_DEFAULTS } from "../algos/dqn";
import { PPO_DEFAULTS } from "../algos/ppo";
import { DqnOptionsSchema, PpoOptionsSchema, type TrainConfig } from "../train/config";

export type HyperValue = number | boolean | string;
export type Genome = number[];

/** Most values one dimension may hold. */
export const DIM_VALUE_LIMIT = 10_000;

export class RlSpaceError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message.startsWith(`${field}:`) ? message : `${field}: ${message}`);
    this.name = "RlSpaceError";
  }
}

interface HyperDef {
  name: string;
  type: "int" | "number" | "bool" | "enum";
  min?: number;
  /** min is exclusive (value must be > min). */
  minOpen?: boolean;
  max?: number;
  options?: readonly string[];
  /** Network shape pseudo-parameters map onto `hidden`. */
  network?: boolean;
}

const num = (name: string, min: number, max: number, minOpen = false): HyperDef => ({ name, type: "number", min, max, minOpen });
const int = (name: string, min: number, max: number): HyperDef => ({ name, type: "int", min, max });
const bool = (name: string): HyperDef => ({ name, type: "bool" });
const en = (name: string, options: readonly string[]): HyperDef => ({ name, type: "enum", options });

const NETWORK: HyperDef[] = [
  { ...int("hiddenWidth", 1, 4096), network: true },
  { ...int("hiddenDepth", 1, 8), network: true },
  en("activation", ["tanh", "relu"]),
];

/** PPO hyperparameters a space may vary, in genome order (bounds = TrainConfig's PpoOptionsSchema). */
export const PPO_HYPERPARAMS: readonly HyperDef[] = [
  num("learningRate", 0, 1, true),
  bool("annealLr"),
  int("numSteps", 1, 100_000),
  num("gamma", 0, 1),
  num("gaeLambda", 0, 1),
  int("numMinibatches", 1, 1024),
  int("updateEpochs", 1, 100),
  bool("normAdv"),
  num("clipCoef", 0, 10, true),
  bool("clipVloss"),
  num("entCoef", 0, 10),
  num("vfCoef", 0, 10),
  num("maxGradNorm", 0, 1e9, true),
  ...NETWORK,
  // MLP or a transformer-attention encoder over the window (trading runs; its width and heads are the base's)
  en("network", ["mlp", "attention"]),
];

/** DQN hyperparameters a space may vary, in genome order (bounds = TrainConfig's DqnOptionsSchema). */
export const DQN_HYPERPARAMS: readonly HyperDef[] = [
  num("learningRate", 0, 1, true),
  int("bufferSize", 1, 10_000_000),
  num("gamma", 0, 1),
  num("tau", 0, 1, true),
  int("targetNetworkFrequency", 1, 100_000_000),
  int("batchSize", 1, 65_536),
  num("startE", 0, 1),
  num("endE", 0, 1),
  num("explorationFraction", 0, 1),
  int("learningStarts", 0, 100_000_000),
  int("trainFrequency", 1, 100_000_000),
  bool("double"),
  bool("dueling"),
  int("nStep", 1, 100),
  en("loss", ["mse", "huber"]),
  num("maxGradNorm", 0, 1e9, true),
  ...NETWORK,
];

const HYPERPARAMS = { ppo: PPO_HYPERPARAMS, dqn: DQN_HYPERPARAMS } as const;

const ValueSchema = z.union([z.number(), z.boolean(), z.string()]);
const RangeSchema = z
  .object({
    min: z.number(),
    max: z.number(),
    step: z.number().positive("step must be positive").optional(),
    count: z.number().int("count must be a whole number").min(1, "count must be at least 1").max(DIM_VALUE_LIMIT).optional(),
    scale: z.enum(["linear", "log"]).optional(),
  })
  .strict();
const DimSpecSchema = z.union([z.array(ValueSchema).min(1, "give at least one value").max(DIM_VALUE_LIMIT), RangeSchema]);
const sectionSchema = (defs: readonly HyperDef[]) => z.object(Object.fromEntries(defs.map((d) => [d.name, DimSpecSchema.optional()]))).strict();

export const RlSpaceSchema = z
  .object({
    ppo: sectionSchema(PPO_HYPERPARAMS).optional(),
    dqn: sectionSchema(DQN_HYPERPARAMS).optional(),
  })
  .strict();
export type RlSpaceSpec = z.input<typeof RlSpaceSchema>;
export type RangeSpec = z.input<typeof RangeSchema>;

/** One dimension: a hyperparameter and its ordered candidate values. */
export interface RlDim {
  name: string;
  type: HyperDef["type"];
  /** int/number: mutation moves along the ordered values; bool/enum jump. */
  numeric: boolean;
  values: HyperValue[];
  size: number;
}

export interface RlSpace {
  algo: "ppo" | "dqn";
  dims: RlDim[];
  /** Product of the dimension sizes. */
  size: number;
  /** The genome's values by hyperparameter name (hiddenWidth / hiddenDepth as such). */
  hyperparams(g: ArrayLike<number>): Record<string, HyperValue>;
  /** The algorithm options for the genome: base options + the genome's values (hidden resolved). */
  algoOptions(g: ArrayLike<number>): Record<string, unknown>;
  /** The full training configuration of one trial: base + genome, with `seed`. */
  trialConfig(g: ArrayLike<number>, seed: number): TrainConfig;
  /** Stable key of a genome (its indices). */
  key(g: ArrayLike<number>): string;
  /** Throws RlSpaceError naming the field when `g` is not a genome of this space. */
  checkGenome(g: unknown, field?: string): Genome;
}

function decimals(x: number): number {
  const s = String(x);
  const e = /e-(\d+)$/.exec(s);
  if (e) return Math.min(15, Number(e[1]) + (s.split("e")[0]!.split(".")[1]?.length ?? 0));
  return s.split(".")[1]?.length ?? 0;
}

function checkValue(d: HyperDef, raw: unknown, field: string): HyperValue {
  switch (d.type) {
    case "int":
    case "number": {
      if (typeof raw !== "number" || !Number.isFinite(raw)) throw new RlSpaceError(field, `${JSON.stringify(raw)} is not a number`);
      if (d.type === "int" && !Number.isInteger(raw)) throw new RlSpaceError(field, `${raw} is not a whole number`);
      if (d.min !== undefined && (d.minOpen ? raw <= d.min : raw < d.min)) throw new RlSpaceError(field, d.minOpen ? `${raw} must be above ${d.min}` : `${raw} is below the minimum ${d.min}`);
      if (d.max !== undefined && raw > d.max) throw new RlSpaceError(field, `${raw} is above the maximum ${d.max}`);
      return raw;
    }
    case "bool":
      if (typeof raw !== "boolean") throw new RlSpaceError(field, `${JSON.stringify(raw)} is not true or false`);
      return raw;
    case "enum":
      if (typeof raw !== "string" || !d.options!.includes(raw)) throw new RlSpaceError(field, `${JSON.stringify(raw)} is not one of ${d.options!.join(", ")}`);
      return raw;
  }
}

/** The values of a range spec (before bound checks). */
function rangeValues(d: HyperDef, r: z.output<typeof RangeSchema>, field: string): number[] {
  if (d.type !== "int" && d.type !== "number") throw new RlSpaceError(field, `a range {min, max, ...} needs a numeric hyperparameter; ${d.name} is ${d.type === "bool" ? "true/false" : "one of " + d.options!.join(", ")}, give a list of values`);
  const min = checkValue(d, r.min, `${field}.min`) as number;
  const max = checkValue(d, r.max, `${field}.max`) as number;
  if (min > max) throw new RlSpaceError(`${field}.min`, `min (${min}) is above max (${max})`);
  if (r.step !== undefined && r.count !== undefined) throw new RlSpaceError(field, "give either step or count, not both");
  if (r.scale === "log") {
    if (r.step !== undefined) throw new RlSpaceError(`${field}.step`, "a log-scale range takes count, not step");
    if (!(min > 0)) throw new RlSpaceError(`${field}.min`, `a log-scale range needs min > 0, got ${min}`);
    const count = r.count ?? 5;
    if (count === 1 || min === max) return [min];
    const out: number[] = [];
    const ratio = Math.log(max / min);
    for (let i = 0; i < count; i++) {
      if (i === 0) out.push(min);
      else if (i === count - 1) out.push(max);
      else {
        const v = min * Math.exp((ratio * i) / (count - 1));
        out.push(d.type === "int" ? Math.round(v) : Number(v.toPrecision(4)));
      }
    }
    return out;
  }
  if (r.count !== undefined) {
    if (r.count === 1 || min === max) return [min];
    return Array.from({ length: r.count }, (_, i) => {
      if (i === r.count! - 1) return max;
      const v = min + ((max - min) * i) / (r.count! - 1);
      return d.type === "int" ? Math.round(v) : Number(v.toPrecision(12));
    });
  }
  let step = r.step;
  if (step === undefined) {
    if (d.type !== "int") throw new RlSpaceError(`${field}.step`, `a step or a count is required for the non-integer hyperparameter ${d.name}`);
    step = 1;
  }
  if (d.type === "int" && !Number.isInteger(step)) throw new RlSpaceError(`${field}.step`, `${d.name} is a whole number, so the step must be too (got ${step})`);
  const count = Math.floor((max - min) / step + 1e-9) + 1;
  if (count > DIM_VALUE_LIMIT) throw new RlSpaceError(field, `the range holds ${count} values, more than ${DIM_VALUE_LIMIT}; use a larger step`);
  const dec = Math.max(decimals(min), decimals(step));
  return Array.from({ length: count }, (_, i) => (d.type === "int" ? min + i * step! : Number((min + i * step!).toFixed(dec))));
}

/** The same per-field schema the training configuration uses (a second check on each value). */
function configFieldCheck(algo: "ppo" | "dqn", d: HyperDef, v: HyperValue, field: string): void {
  if (d.network) return;
  const shape = (algo === "ppo" ? PpoOptionsSchema.shape : DqnOptionsSchema.shape) as Record<string, z.ZodType>;
  const s = shape[d.name];
  if (!s) return;
  const r = s.safeParse(v);
  if (!r.success) throw new RlSpaceError(field, `${JSON.stringify(v)}: ${r.error.issues[0]?.message ?? "invalid"}`);
}

function parseSpec(spec: unknown): z.output<typeof RlSpaceSchema> {
  const parsed = RlSpaceSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let path = issue.path.map(String);
    let message = issue.message;
    // unions report the failing branch vaguely; name the hyperparameter
    if (issue.code === "unrecognized_keys") {
      const keys = (issue as { keys?: string[] }).keys ?? [];
      if (keys.length) {
        path = [...path, keys[0]!];
        const section = path[0];
        const known = section === "ppo" || section === "dqn" ? HYPERPARAMS[section].map((d) => d.name).join(", ") : "ppo, dqn";
        message = `unknown ${path.length > 1 ? "hyperparameter" : "section"} '${keys[0]}' (known: ${known})`;
      }
    } else if (issue.code === "invalid_union") message = "give a list of values or a range {min, max, step | count, scale}";
    const field = ["space", ...path].join(".");
    throw new RlSpaceError(field, message);
  }
  return parsed.data;
}

/**
 * A validated space for the base training configuration (its algo picks the
 * section). Throws RlSpaceError naming the field.
 */
export function buildRlSpace(spec: unknown, base: TrainConfig): RlSpace {
  const parsed = parseSpec(spec);
  const algo = base.algo;
  const other = algo === "ppo" ? "dqn" : "ppo";
  if (parsed[other] && Object.keys(parsed[other]).length) throw new RlSpaceError(`space.${other}`, `the base configuration trains ${algo}; tune ${other} hyperparameters with a ${other} base configuration`);
  const section = (parsed[algo] ?? {}) as Record<string, unknown>;
  const dims: RlDim[] = [];
  for (const d of HYPERPARAMS[algo]) {
    const s = section[d.name];
    if (s === undefined) continue;
    const field = `space.${algo}.${d.name}`;
    const list = Array.isArray(s);
    const at = (i: number) => (list ? `${field}.${i}` : field);
    const vals: HyperValue[] = list ? s.map((raw, i) => checkValue(d, raw, at(i))) : rangeValues(d, s as z.output<typeof RangeSchema>, field);
    vals.forEach((v, i) => {
      checkValue(d, v, at(i));
      configFieldCheck(algo, d, v, at(i));
      if (d.name === "network" && v === "attention" && base.env !== "trading") throw new RlSpaceError(at(i), `"attention" attends over a trading observation window; the base configuration's env is ${base.env}`);
    });
    const seen = new Set<string>();
    const uniq: HyperValue[] = [];
    for (const v of vals) {
      const k = `${typeof v}:${String(v)}`;
      if (!seen.has(k)) {
        seen.add(k);
        uniq.push(v);
      }
    }
    const numeric = d.type === "int" || d.type === "number";
    if (numeric) (uniq as number[]).sort((a, b) => a - b);
    else if (d.type === "bool") uniq.sort((a, b) => Number(a) - Number(b));
    else uniq.sort((a, b) => d.options!.indexOf(String(a)) - d.options!.indexOf(String(b)));
    dims.push({ name: d.name, type: d.type, numeric, values: uniq, size: uniq.length });
  }
  if (dims.length === 0) throw new RlSpaceError(`space.${algo}`, `the space names no ${algo} hyperparameter (known: ${HYPERPARAMS[algo].map((d) => d.name).join(", ")})`);
  const size = dims.reduce((a, d) => a * d.size, 1);

  const hyperparams = (g: ArrayLike<number>): Record<string, HyperValue> => {
    const p: Record<string, HyperValue> = {};
    dims.forEach((d, k) => (p[d.name] = d.values[g[k]!]!));
    return p;
  };
  const baseOptions = (algo === "ppo" ? base.ppo : base.dqn) as Record<string, unknown>;
  const baseHidden = (baseOptions.hidden as number[] | undefined) ?? (algo === "ppo" ? PPO_DEFAULTS.hidden : DQN_DEFAULTS.hidden);
  const algoOptions = (g: ArrayLike<number>): Record<string, unknown> => {
    const hp = hyperparams(g);
    const out: Record<string, unknown> = { ...baseOptions };
    for (const [k, v] of Object.entries(hp)) if (k !== "hiddenWidth" && k !== "hiddenDepth") out[k] = v;
    if (hp.hiddenWidth !== undefined || hp.hiddenDepth !== undefined) {
      const width = (hp.hiddenWidth as number | undefined) ?? baseHidden[0] ?? 64;
      const depth = (hp.hiddenDepth as number | undefined) ?? baseHidden.length;
      out.hidden = Array.from({ length: depth }, () => width);
    }
    return out;
  };
  const key = (g: ArrayLike<number>) => Array.prototype.join.call(g, ",");
  return {
    algo,
    dims,
    size,
    hyperparams,
    algoOptions,
    trialConfig: (g, seed) => ({ ...base, seed, [algo]: algoOptions(g) }) as TrainConfig,
    key,
    checkGenome(g, field = "genome") {
      if (!Array.isArray(g) || g.length !== dims.length) throw new RlSpaceError(field, `expected ${dims.length} indices (${dims.map((d) => d.name).join(", ")})`);
      g.forEach((v, k) => {
        if (!Number.isInteger(v) || v < 0 || v >= dims[k]!.size) throw new RlSpaceError(`${field}.${k}`, `${JSON.stringify(v)} is not an index into the ${dims[k]!.size} values of ${dims[k]!.name}`);
      });
      return (g as number[]).slice();
    },
  };
}
