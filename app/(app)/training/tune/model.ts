/**
 * The /training/tune page's pure side: the search form (base configuration,
 * per hyperparameter a list or a range, the genetic settings) to the job the
 * engine's runRlTuning takes, server errors to form fields, the stream's
 * "tune.progress" frames, typed views of a stored RlTuning row and its
 * result, and the Pareto chart's points. No React, no I/O.
 *
 * The hyperparameter tables mirror engine/rl/tune/space.ts (model.test.ts
 * checks they stay equal); engine types come in type-only. Every objective
 * the engine reports is on the VALIDATION span (CartPole: the greedy
 * evaluation return, its documented fallback), and is labelled so here.
 */
import type { TuneFrontPoint, TuneProgressData } from "@/engine/events";
import { paretoFront, sortFront, type XY } from "@/app/(app)/optimize/model";
import { DQN_FORM_DEFAULTS, ENGINE_OFFLINE, PPO_FORM_DEFAULTS, type ServerErrorLike } from "../model";

export type { XY } from "@/app/(app)/optimize/model";
export type EnvId = "cartpole" | "trading";
export type AlgoId = "ppo" | "dqn";
export type TuneStatus = TuneProgressData["status"];
export type HyperValue = number | boolean | string;

const EM = "—";
const fin = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const STATUSES: readonly TuneStatus[] = ["queued", "running", "stopped", "done", "failed"];
export const isTuneStatus = (s: unknown): s is TuneStatus => typeof s === "string" && (STATUSES as readonly string[]).includes(s);
/** Queued or running: Stop applies. */
export const isActive = (s: string) => s === "queued" || s === "running";

// ------------------------------------------------------------------ hyperparameters (= engine/rl/tune/space.ts)

export interface HyperDefView {
  name: string;
  type: "int" | "number" | "bool" | "enum";
  min?: number;
  minOpen?: boolean;
  max?: number;
  options?: readonly string[];
}

const num = (name: string, min: number, max: number, minOpen = false): HyperDefView => ({ name, type: "number", min, max, ...(minOpen ? { minOpen } : {}) });
const int = (name: string, min: number, max: number): HyperDefView => ({ name, type: "int", min, max });
const bool = (name: string): HyperDefView => ({ name, type: "bool" });
const en = (name: string, options: readonly string[]): HyperDefView => ({ name, type: "enum", options });
const NETWORK: HyperDefView[] = [int("hiddenWidth", 1, 4096), int("hiddenDepth", 1, 8), en("activation", ["tanh", "relu"])];

/** In the engine's genome order. */
export const TUNE_HYPERPARAMS: Record<AlgoId, readonly HyperDefView[]> = {
  ppo: [
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
    en("network", ["mlp", "attention"]),
  ],
  dqn: [
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
  ],
};

export const HYPER_LABELS: Record<string, string> = {
  learningRate: "Learning rate",
  annealLr: "Anneal LR",
  numSteps: "Rollout steps / env",
  gamma: "Discount γ",
  gaeLambda: "GAE λ",
  numMinibatches: "Minibatches",
  updateEpochs: "Update epochs",
  normAdv: "Normalise advantages",
  clipCoef: "Clip coefficient",
  clipVloss: "Clip value loss",
  entCoef: "Entropy coefficient",
  vfCoef: "Value-loss coefficient",
  maxGradNorm: "Max gradient norm",
  hiddenWidth: "Hidden width",
  hiddenDepth: "Hidden layers",
  activation: "Activation",
  bufferSize: "Replay buffer",
  tau: "Target update rate τ",
  targetNetworkFrequency: "Target update every",
  batchSize: "Batch size",
  startE: "ε start",
  endE: "ε end",
  explorationFraction: "ε decay fraction",
  learningStarts: "Learning starts",
  trainFrequency: "Train every",
  double: "Double DQN",
  dueling: "Dueling head",
  nStep: "n-step returns",
  loss: "Loss",
};
export const hyperLabel = (name: string) => HYPER_LABELS[name] ?? name;

export const isNumericHyper = (d: Pick<HyperDefView, "type">) => d.type === "int" || d.type === "number";

// ------------------------------------------------------------------ form values

export interface DimForm {
  /** Tuned (part of the space); otherwise the base configuration's value is used. */
  on: boolean;
  mode: "list" | "range";
  /** Comma-separated values (numbers, true / false, or the options). */
  list: string;
  min: string;
  max: string;
  /** Values in the range (evenly spaced, or log-spaced with `log`). */
  count: string;
  /** Linear ranges: a step instead of a count (blank = use the count). */
  step: string;
  log: boolean;
}

export const GA_KEYS = ["population", "generations", "mutationRate", "crossoverRate", "elite", "seed", "workers"] as const;
export type GaKey = (typeof GA_KEYS)[number];

export interface TuneFormValues {
  env: EnvId;
  algo: AlgoId;
  symbol: string;
  timeframe: string;
  /** Environment steps of every trial. */
  steps: string;
  ga: Record<GaKey, string>;
  dims: Record<AlgoId, Record<string, DimForm>>;
}

export const DEFAULT_TRIAL_STEPS = 20_000;
export const DEFAULT_GA: Record<GaKey, string> = { population: "8", generations: "4", mutationRate: "0.2", crossoverRate: "0.9", elite: "", seed: "1", workers: "" };

function defaultValueOf(algo: AlgoId, name: string): string {
  const d = (algo === "ppo" ? PPO_FORM_DEFAULTS : DQN_FORM_DEFAULTS) as Record<string, unknown>;
  const hidden = d.hidden as number[];
  if (name === "hiddenWidth") return String(hidden[0] ?? 64);
  if (name === "hiddenDepth") return String(hidden.length);
  const v = d[name];
  return v === null || v === undefined ? "" : String(v);
}

const list = (values: string): DimForm => ({ on: true, mode: "list", list: values, min: "", max: "", count: "5", step: "", log: false });
const logRange = (min: string, max: string, count: string): DimForm => ({ on: true, mode: "range", list: "", min, max, count, step: "", log: true });

/** A small, sensible starting space per algorithm (the rest off, their lists holding the engine's default). */
const PRESETS: Record<AlgoId, Record<string, DimForm>> = {
  ppo: { learningRate: logRange("0.0001", "0.01", "5"), entCoef: list("0, 0.01, 0.05"), hiddenWidth: list("32, 64") },
  dqn: { learningRate: logRange("0.0001", "0.01", "5"), gamma: list("0.95, 0.99"), hiddenWidth: list("64, 128") },
};

export function defaultDims(algo: AlgoId): Record<string, DimForm> {
  const out: Record<string, DimForm> = {};
  for (const d of TUNE_HYPERPARAMS[algo]) {
    const preset = PRESETS[algo][d.name];
    if (preset) out[d.name] = { ...preset };
    else {
      const v = defaultValueOf(algo, d.name);
      const numeric = isNumericHyper(d);
      out[d.name] = { on: false, mode: "list", list: d.type === "bool" ? "true, false" : d.type === "enum" ? d.options!.join(", ") : v, min: numeric ? v : "", max: numeric ? v : "", count: "3", step: "", log: false };
    }
  }
  return out;
}

export function initialTuneForm(): TuneFormValues {
  return { env: "cartpole", algo: "ppo", symbol: "", timeframe: "", steps: String(DEFAULT_TRIAL_STEPS), ga: { ...DEFAULT_GA }, dims: { ppo: defaultDims("ppo"), dqn: defaultDims("dqn") } };
}

// ------------------------------------------------------------------ form -> job

/** Error keys: "form", "base.env", "base.algo", "base.steps", "base.trading", "space", `space.${name}`, or a GA key. */
export type TuneErrors = Partial<Record<string, string>>;

export type DimSpec = HyperValue[] | { min: number; max: number; count?: number; step?: number; scale?: "log" };

export interface TuneJob {
  base: { env: EnvId; algo: AlgoId; steps: number; seed: number; trading?: { symbol: string; timeframe: string } };
  space: Partial<Record<AlgoId, Record<string, DimSpec>>>;
  population: number;
  generations: number;
  mutationRate: number;
  crossoverRate: number;
  elite?: number;
  seed: number;
  workers?: number;
}

function parseNum(s: string): number | null {
  const t = s.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

const splitList = (s: string) =>
  s
    .split(/[,;\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** One dimension's spec, or an error message (format only: bounds are the engine's, its answer names the value). */
export function dimSpec(def: HyperDefView, f: DimForm): { spec: DimSpec } | { error: string } {
  const key = `space.${def.name}`;
  if (f.mode === "range") {
    if (!isNumericHyper(def)) return { error: `${key}: ${def.name} takes a list of values, not a range.` };
    const min = parseNum(f.min);
    const max = parseNum(f.max);
    if (min === null || max === null) return { error: `${key}: enter a numeric min and max.` };
    if (min > max) return { error: `${key}: min (${min}) is above max (${max}).` };
    const step = f.log ? null : parseNum(f.step);
    if (!f.log && f.step.trim() !== "") {
      if (step === null || !(step > 0)) return { error: `${key}: the step must be a positive number.` };
      return { spec: { min, max, step } };
    }
    const count = parseNum(f.count);
    if (count === null || !Number.isInteger(count) || count < 1) return { error: `${key}: the number of values must be a whole number ≥ 1.` };
    if (f.log && !(min > 0)) return { error: `${key}: a log-scale range needs min > 0.` };
    return { spec: f.log ? { min, max, count, scale: "log" } : { min, max, count } };
  }
  const parts = splitList(f.list);
  if (parts.length === 0) return { error: `${key}: give at least one value.` };
  const out: HyperValue[] = [];
  for (const p of parts) {
    if (def.type === "bool") {
      if (p !== "true" && p !== "false") return { error: `${key}: "${p}" is not true or false.` };
      out.push(p === "true");
    } else if (def.type === "enum") {
      if (!def.options!.includes(p)) return { error: `${key}: "${p}" is not one of ${def.options!.join(", ")}.` };
      out.push(p);
    } else {
      const n = parseNum(p);
      if (n === null) return { error: `${key}: "${p}" is not a number.` };
      if (def.type === "int" && !Number.isInteger(n)) return { error: `${key}: ${p} is not a whole number.` };
      out.push(n);
    }
  }
  return { spec: out };
}

/** How many values a dimension holds (before the engine's bound checks and de-duplication); null when not parsable. */
export function dimCount(def: HyperDefView, f: DimForm): number | null {
  const r = dimSpec(def, f);
  if ("error" in r) return null;
  const s = r.spec;
  if (Array.isArray(s)) return new Set(s.map((v) => `${typeof v}:${String(v)}`)).size;
  if (s.min === s.max) return 1;
  if (s.step !== undefined) return Math.floor((s.max - s.min) / s.step + 1e-9) + 1;
  return s.count ?? 5;
}

/** The space's size (product of the tuned dimensions' value counts), or null when a dimension does not parse. */
export function spaceSize(v: TuneFormValues): number | null {
  let size = 1;
  let any = false;
  for (const d of TUNE_HYPERPARAMS[v.algo]) {
    const f = v.dims[v.algo][d.name];
    if (!f?.on) continue;
    any = true;
    const c = dimCount(d, f);
    if (c === null) return null;
    size *= c;
  }
  return any ? size : null;
}

/** Trials the search trains at most: population x (generations + 1) (repeated genomes are not trained again). */
export function plannedTrials(v: TuneFormValues): number | null {
  const p = parseNum(v.ga.population);
  const g = parseNum(v.ga.generations);
  if (p === null || g === null || !(p > 0) || g < 0) return null;
  return p * (g + 1);
}

/**
 * Form values to the job tune.start takes, or per-field errors for values
 * that are not even numbers. Ranges and bounds are checked by the engine,
 * whose refusal names the field (tuneErrorsFromServer).
 */
export function buildTuneJob(v: TuneFormValues): { job: TuneJob } | { errors: TuneErrors } {
  const errors: TuneErrors = {};
  const steps = parseNum(v.steps);
  if (steps === null || !Number.isInteger(steps)) errors["base.steps"] = `base.steps: enter a whole number of environment steps per trial.`;
  const ga: Partial<Record<GaKey, number>> = {};
  for (const k of GA_KEYS) {
    const s = v.ga[k];
    const optional = k === "elite" || k === "workers";
    if (s.trim() === "") {
      if (!optional) errors[k] = `${k}: enter a number.`;
      continue;
    }
    const n = parseNum(s);
    if (n === null) errors[k] = `${k}: "${s.trim()}" is not a number.`;
    else if (k !== "mutationRate" && k !== "crossoverRate" && !Number.isInteger(n)) errors[k] = `${k}: must be a whole number.`;
    else ga[k] = n;
  }
  if (v.env === "trading" && (!v.symbol || !v.timeframe)) errors["base.trading"] = "base.trading: pick a stored series (symbol and timeframe).";
  const section: Record<string, DimSpec> = {};
  for (const d of TUNE_HYPERPARAMS[v.algo]) {
    const f = v.dims[v.algo][d.name];
    if (!f?.on) continue;
    const r = dimSpec(d, f);
    if ("error" in r) errors[`space.${d.name}`] = r.error;
    else section[d.name] = r.spec;
  }
  if (Object.keys(section).length === 0 && !Object.keys(errors).some((k) => k.startsWith("space."))) errors.space = "space: tick at least one hyperparameter to tune.";
  if (Object.keys(errors).length) return { errors };
  const seed = ga.seed!;
  const base: TuneJob["base"] = { env: v.env, algo: v.algo, steps: steps!, seed };
  if (v.env === "trading") base.trading = { symbol: v.symbol, timeframe: v.timeframe };
  const job: TuneJob = { base, space: { [v.algo]: section }, population: ga.population!, generations: ga.generations!, mutationRate: ga.mutationRate!, crossoverRate: ga.crossoverRate!, seed };
  if (ga.elite !== undefined) job.elite = ga.elite;
  if (ga.workers !== undefined) job.workers = ga.workers;
  return { job };
}

// ------------------------------------------------------------------ server errors -> fields

/** The form key for a field the engine names ("space.ppo.learningRate.2" -> "space.learningRate"). */
export function tuneFormKeyOf(path: string): string {
  const p = path.trim().replace(/\[(\d+)\]/g, ".$1");
  if (p === "" || p === "job" || p === "command") return "form";
  const parts = p.split(".");
  const head = parts[0]!;
  if ((GA_KEYS as readonly string[]).includes(head)) return head;
  if (head === "space") {
    const algo = parts[1];
    const name = parts[2];
    if ((algo === "ppo" || algo === "dqn") && name && TUNE_HYPERPARAMS[algo].some((d) => d.name === name)) return `space.${name}`;
    return "space";
  }
  if (head === "base") {
    const sub = parts[1];
    if (sub === "trading") return "base.trading";
    if (sub === "steps" || sub === "totalTimesteps") return "base.steps";
    if (sub === "seed") return "seed";
    if (sub === "env" || sub === "algo") return `base.${sub}`;
    return "form";
  }
  return "form";
}

/** Errors of a refused tune.start / tune.resume, keyed by form field; "form" for the form as a whole. */
export function tuneErrorsFromServer(err: ServerErrorLike): TuneErrors {
  const code = err.data?.code;
  if (code === "SERVICE_UNAVAILABLE") return { form: ENGINE_OFFLINE };
  if (code === "FORBIDDEN" || code === "UNAUTHORIZED") return { form: err.message };
  const zod = err.data?.zodError;
  if (zod && (Object.keys(zod.fieldErrors ?? {}).length || zod.formErrors?.length)) {
    const msgs = [...Object.entries(zod.fieldErrors ?? {}).flatMap(([k, m]) => (m ?? []).map((x) => `${k}: ${x}`)), ...(zod.formErrors ?? [])];
    return { form: msgs.join(" ") };
  }
  const field = err.data?.field ?? /^([A-Za-z][\w.]*)\s*:\s/.exec(err.message.trim())?.[1] ?? null;
  return { [field ? tuneFormKeyOf(field) : "form"]: err.message };
}

// ------------------------------------------------------------------ stream

export type TuneEvent = TuneProgressData & { ts: string | null; eventId: number | null };

function asFrontPoint(x: unknown): TuneFrontPoint | null {
  if (!isObj(x) || !fin(x.id) || !isObj(x.hyperparams) || !isObj(x.objectives)) return null;
  const o = x.objectives;
  const objectives = fin(o.evalReturn) ? { label: "validation" as const, evalReturn: o.evalReturn } : fin(o.valSharpe) && fin(o.valMaxDrawdown) ? { label: "validation" as const, valSharpe: o.valSharpe, valMaxDrawdown: o.valMaxDrawdown } : null;
  if (!objectives) return null;
  const hyperparams: Record<string, HyperValue> = {};
  for (const [k, v] of Object.entries(x.hyperparams)) if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") hyperparams[k] = v;
  return { id: x.id, hyperparams, objectives };
}

/** The "data" of a "tune.progress" stream frame ({type, id, ts, data}), checked; null when malformed. */
export function parseTuneFrame(text: string): TuneEvent | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(o) || !isObj(o.data)) return null;
  const d = o.data;
  if (typeof d.tuneId !== "string" || !isTuneStatus(d.status) || !fin(d.done) || !fin(d.total)) return null;
  return {
    tuneId: d.tuneId,
    generation: fin(d.generation) ? d.generation : 0,
    done: d.done,
    total: d.total,
    status: d.status,
    error: typeof d.error === "string" ? d.error : null,
    front: Array.isArray(d.front) ? d.front.map(asFrontPoint).filter((p): p is TuneFrontPoint => p !== null) : [],
    ts: typeof o.ts === "string" ? o.ts : null,
    eventId: fin(o.id) ? o.id : null,
  };
}

/** The latest event per search (a new map; an older event id never replaces a newer one). */
export function applyTuneEvent(prev: ReadonlyMap<string, TuneEvent>, ev: TuneEvent): ReadonlyMap<string, TuneEvent> {
  const before = prev.get(ev.tuneId);
  if (before && before.eventId !== null && ev.eventId !== null && ev.eventId <= before.eventId) return prev;
  const next = new Map(prev);
  next.set(ev.tuneId, ev);
  return next;
}

// ------------------------------------------------------------------ stored rows

export interface TuneRowLike {
  status: string;
  generation: number;
  done: number;
  total: number;
  error: string | null;
  updatedAt?: string | null;
}

/**
 * The stream's event when it is at least as new as the stored row (the row
 * is polled, the stream is live); the row when it changed after the event
 * (e.g. an engine restart marked a search stopped: the new engine never
 * streamed about it).
 */
export function currentEvent(row: TuneRowLike, ev: TuneEvent | undefined): TuneEvent | undefined {
  if (!ev) return undefined;
  if (ev.ts && row.updatedAt && Date.parse(row.updatedAt) > Date.parse(ev.ts) && !isActive(row.status) && row.status !== ev.status) return undefined;
  return ev;
}


export interface TuneJobView {
  env: EnvId | null;
  algo: AlgoId | null;
  symbol: string | null;
  timeframe: string | null;
  steps: number | null;
  population: number | null;
  generations: number | null;
  mutationRate: number | null;
  crossoverRate: number | null;
  elite: number | null;
  seed: number | null;
  workers: number | null;
  /** The tuned hyperparameters, in the engine's genome order. */
  dims: string[];
  /** Their specs as stored (list or range). */
  space: Record<string, unknown>;
}

export function toJobView(raw: unknown): TuneJobView {
  const j = isObj(raw) ? raw : {};
  const base = isObj(j.base) ? j.base : {};
  const trading = isObj(base.trading) ? base.trading : {};
  const algo = base.algo === "ppo" || base.algo === "dqn" ? base.algo : null;
  const env = base.env === "cartpole" || base.env === "trading" ? base.env : null;
  const space = isObj(j.space) && algo && isObj(j.space[algo]) ? (j.space[algo] as Record<string, unknown>) : {};
  const order = algo ? TUNE_HYPERPARAMS[algo].map((d) => d.name) : [];
  const dims = Object.keys(space).sort((a, b) => (order.indexOf(a) < 0 ? 1e9 : order.indexOf(a)) - (order.indexOf(b) < 0 ? 1e9 : order.indexOf(b)));
  const n = (v: unknown) => (fin(v) ? v : null);
  return {
    env,
    algo,
    symbol: typeof trading.symbol === "string" ? trading.symbol : null,
    timeframe: typeof trading.timeframe === "string" ? trading.timeframe : null,
    steps: n(base.steps),
    population: n(j.population),
    generations: n(j.generations),
    mutationRate: n(j.mutationRate),
    crossoverRate: n(j.crossoverRate),
    elite: n(j.elite),
    seed: n(j.seed),
    workers: n(j.workers),
    dims,
    space,
  };
}

/** "PPO · CartPole" / "DQN · BTC-PERP 1m". */
export function jobTitle(j: TuneJobView): string {
  const algo = j.algo ? j.algo.toUpperCase() : "?";
  const data = j.env === "trading" ? `${j.symbol ?? "?"} ${j.timeframe ?? ""}`.trim() : j.env === "cartpole" ? "CartPole" : "?";
  return `${algo} · ${data}`;
}

/** A range or list spec as text: "0.0001 → 0.01, 5 log-spaced values" / "0, 0.01, 0.05". */
export function fmtSpec(spec: unknown): string {
  if (Array.isArray(spec)) return spec.map((v) => (typeof v === "number" ? fmtHyper(v) : String(v))).join(", ");
  if (isObj(spec) && fin(spec.min) && fin(spec.max)) {
    const how = fin(spec.step) ? `step ${fmtHyper(spec.step)}` : `${fin(spec.count) ? spec.count : 5} ${spec.scale === "log" ? "log-spaced" : "evenly spaced"} values`;
    return `${fmtHyper(spec.min)} → ${fmtHyper(spec.max)}, ${how}`;
  }
  return EM;
}

// ------------------------------------------------------------------ trials and results

export interface TrialView {
  id: number;
  generation: number | null;
  hyperparams: Record<string, HyperValue>;
  seed: number | null;
  status: "ok" | "failed";
  /** Validation Sharpe (trading). */
  valSharpe: number | null;
  /** Validation max drawdown, a positive fraction (trading). */
  valMaxDrawdown: number | null;
  /** Mean greedy evaluation return (CartPole). */
  evalReturn: number | null;
  /** Trading: the validation span's other figures. */
  valTotalReturn: number | null;
  valTrades: number | null;
  valFrom: string | null;
  valTo: string | null;
  steps: number | null;
  seconds: number | null;
  error: string | null;
  /** Streamed (a front point of the running generation), not yet stored. */
  live?: boolean;
}

export function asTrial(x: unknown): TrialView | null {
  if (!isObj(x) || !fin(x.id)) return null;
  const o = isObj(x.objectives) ? x.objectives : {};
  const val = isObj(x.validation) ? x.validation : {};
  const m = isObj(val.metrics) ? val.metrics : {};
  const hyperparams: Record<string, HyperValue> = {};
  if (isObj(x.hyperparams)) for (const [k, v] of Object.entries(x.hyperparams)) if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") hyperparams[k] = v;
  const n = (v: unknown) => (fin(v) ? v : null);
  return {
    id: x.id,
    generation: n(x.generation),
    hyperparams,
    seed: n(x.seed),
    status: x.status === "ok" ? "ok" : "failed",
    valSharpe: n(o.valSharpe),
    valMaxDrawdown: n(o.valMaxDrawdown),
    evalReturn: n(o.evalReturn),
    valTotalReturn: n(m.totalReturn),
    valTrades: n(m.trades),
    valFrom: typeof val.from === "string" && val.from ? val.from : null,
    valTo: typeof val.to === "string" && val.to ? val.to : null,
    steps: n(x.steps),
    seconds: n(x.seconds),
    error: typeof x.error === "string" ? x.error : null,
  };
}

export function frontPointTrial(p: TuneFrontPoint, generation: number | null): TrialView {
  const o = p.objectives as Record<string, unknown>;
  return {
    id: p.id,
    generation,
    hyperparams: { ...p.hyperparams },
    seed: null,
    status: "ok",
    valSharpe: fin(o.valSharpe) ? o.valSharpe : null,
    valMaxDrawdown: fin(o.valMaxDrawdown) ? o.valMaxDrawdown : null,
    evalReturn: fin(o.evalReturn) ? o.evalReturn : null,
    valTotalReturn: null,
    valTrades: null,
    valFrom: null,
    valTo: null,
    steps: null,
    seconds: null,
    error: null,
    live: true,
  };
}

export interface GenerationView {
  generation: number;
  evaluated: number | null;
  cached: number | null;
  failed: number | null;
  bestValSharpe: number | null;
  meanValSharpe: number | null;
  minValMaxDrawdown: number | null;
  bestEvalReturn: number | null;
  meanEvalReturn: number | null;
  frontSize: number | null;
}

function asGeneration(x: unknown): GenerationView | null {
  if (!isObj(x) || !fin(x.generation)) return null;
  const n = (v: unknown) => (fin(v) ? v : null);
  return {
    generation: x.generation,
    evaluated: n(x.evaluated),
    cached: n(x.cached),
    failed: n(x.failed),
    bestValSharpe: n(x.bestValSharpe),
    meanValSharpe: n(x.meanValSharpe),
    minValMaxDrawdown: n(x.minValMaxDrawdown),
    bestEvalReturn: n(x.bestEvalReturn),
    meanEvalReturn: n(x.meanEvalReturn),
    frontSize: n(x.frontSize),
  };
}

export interface TuneResultView {
  env: EnvId;
  /** Stored by the engine (done, or up to a stop), or rebuilt from the stored state / stream while it runs. */
  source: "result" | "progress";
  trials: TrialView[];
  /** Ids of the Pareto front (validation objectives), in drawing order. */
  pareto: number[];
  best: number | null;
  generations: GenerationView[];
  evaluations: number | null;
  cacheHits: number | null;
  failed: number | null;
  stopped: boolean | null;
  workers: number | null;
  fallback: string | null;
  seconds: number | null;
  objectives: { name: string; goal: string; description: string }[];
}

/** A trial's chart point: trading (validation max drawdown, validation Sharpe); CartPole (trial id, evaluation return). */
export function trialPoint(env: EnvId, t: TrialView): XY | null {
  if (t.status !== "ok") return null;
  if (env === "trading") return t.valMaxDrawdown !== null && t.valSharpe !== null ? { x: t.valMaxDrawdown, y: t.valSharpe } : null;
  return t.evalReturn !== null ? { x: t.id, y: t.evalReturn } : null;
}

/** The non-dominated trials: trading, lower drawdown and higher Sharpe; CartPole, the highest evaluation return (ties all kept). */
export function frontOf(env: EnvId, trials: readonly TrialView[]): TrialView[] {
  if (env === "trading") return paretoFront(trials, (t) => trialPoint(env, t));
  const ok = trials.filter((t) => t.status === "ok" && t.evalReturn !== null);
  if (!ok.length) return [];
  const max = Math.max(...ok.map((t) => t.evalReturn!));
  return ok.filter((t) => t.evalReturn === max).sort((a, b) => a.id - b.id);
}

function bestOf(env: EnvId, trials: readonly TrialView[]): TrialView | null {
  let best: TrialView | null = null;
  for (const t of trials) {
    if (t.status !== "ok") continue;
    const y = env === "trading" ? t.valSharpe : t.evalReturn;
    if (y === null) continue;
    const by = best ? (env === "trading" ? best.valSharpe! : best.evalReturn!) : -Infinity;
    if (!best || y > by || (env === "trading" && y === by && (t.valMaxDrawdown ?? Infinity) < (best.valMaxDrawdown ?? Infinity))) best = t;
  }
  return best;
}

/** The stored result (RlTuneResult without its state), checked; null when it is not one. */
export function asResult(raw: unknown, envHint: EnvId | null = null): TuneResultView | null {
  if (!isObj(raw) || !Array.isArray(raw.trials)) return null;
  const env: EnvId = raw.env === "trading" || raw.env === "cartpole" ? raw.env : (envHint ?? "cartpole");
  const trials = raw.trials.map(asTrial).filter((t): t is TrialView => t !== null);
  const byId = new Map(trials.map((t) => [t.id, t]));
  const storedPareto = Array.isArray(raw.pareto) ? raw.pareto.map((p) => (isObj(p) && fin(p.id) ? byId.get(p.id) : undefined)).filter((t): t is TrialView => t !== undefined) : frontOf(env, trials);
  const pareto = env === "trading" ? sortFront(storedPareto, (t) => trialPoint(env, t)) : storedPareto.slice().sort((a, b) => a.id - b.id);
  const best = isObj(raw.best) && fin(raw.best.id) && byId.has(raw.best.id) ? raw.best.id : (bestOf(env, trials)?.id ?? null);
  const n = (v: unknown) => (fin(v) ? v : null);
  const objectives = Array.isArray(raw.objectives)
    ? raw.objectives.filter(isObj).map((o) => ({ name: String(o.name ?? ""), goal: String(o.goal ?? ""), description: typeof o.description === "string" ? o.description : "" }))
    : [];
  return {
    env,
    source: "result",
    trials,
    pareto: pareto.map((t) => t.id),
    best,
    generations: Array.isArray(raw.generations) ? raw.generations.map(asGeneration).filter((g): g is GenerationView => g !== null) : [],
    evaluations: n(raw.evaluations),
    cacheHits: n(raw.cacheHits),
    failed: n(raw.failed),
    stopped: typeof raw.stopped === "boolean" ? raw.stopped : null,
    workers: n(raw.workers),
    fallback: typeof raw.fallback === "string" ? raw.fallback : null,
    seconds: n(raw.seconds),
    objectives,
  };
}

/**
 * While a search runs: the trials of its stored state (completed generations
 * and the finished trials of an interrupted one) plus the streamed front
 * points not stored yet; the front computed over them.
 */
export function progressView(env: EnvId, storedTrials: unknown, storedGenerations: unknown, ev: TuneEvent | undefined): TuneResultView {
  const trials = (Array.isArray(storedTrials) ? storedTrials : []).map(asTrial).filter((t): t is TrialView => t !== null);
  const have = new Set(trials.map((t) => t.id));
  for (const p of ev?.front ?? []) if (!have.has(p.id)) trials.push(frontPointTrial(p, ev?.generation ?? null));
  trials.sort((a, b) => a.id - b.id);
  const front = frontOf(env, trials);
  const best = bestOf(env, trials);
  return {
    env,
    source: "progress",
    trials,
    pareto: front.map((t) => t.id),
    best: best?.id ?? null,
    generations: (Array.isArray(storedGenerations) ? storedGenerations : []).map(asGeneration).filter((g): g is GenerationView => g !== null),
    evaluations: trials.filter((t) => !t.live).length,
    cacheHits: null,
    failed: trials.filter((t) => t.status === "failed").length,
    stopped: null,
    workers: null,
    fallback: null,
    seconds: null,
    objectives: [],
  };
}

/** Trials best first by the primary validation objective (Sharpe, or evaluation return); failed last, then by id. */
export function sortTrialsBest(env: EnvId, trials: readonly TrialView[]): TrialView[] {
  const key = (t: TrialView) => (t.status !== "ok" ? null : env === "trading" ? t.valSharpe : t.evalReturn);
  return trials.slice().sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka === null || kb === null) return ka === null && kb === null ? a.id - b.id : ka === null ? 1 : -1;
    return kb - ka || (a.valMaxDrawdown ?? 0) - (b.valMaxDrawdown ?? 0) || a.id - b.id;
  });
}

/** The hyperparameter columns of a trials table: the job's tuned dimensions, else every name the trials carry. */
export function hyperColumns(job: TuneJobView, trials: readonly TrialView[]): string[] {
  if (job.dims.length) return job.dims;
  const seen: string[] = [];
  for (const t of trials) for (const k of Object.keys(t.hyperparams)) if (!seen.includes(k)) seen.push(k);
  return seen;
}

// ------------------------------------------------------------------ formatting

/** A hyperparameter value: small / large numbers in exponent form, up to 4 significant digits otherwise. */
export function fmtHyper(v: HyperValue | null | undefined): string {
  if (v === null || v === undefined) return EM;
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return EM;
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(2).replace(/\.?0+e/, "e");
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return String(Number(v.toPrecision(4)));
}

export function fmtHyperList(hp: Record<string, HyperValue>, names?: readonly string[]): string {
  const keys = names ?? Object.keys(hp);
  return keys
    .filter((k) => hp[k] !== undefined)
    .map((k) => `${k} ${fmtHyper(hp[k])}`)
    .join(" · ");
}

export const fmtCount = (n: number | null | undefined): string => (fin(n) ? Math.round(n).toLocaleString("en-US") : EM);

export function fmtSeconds(s: number | null | undefined): string {
  if (!fin(s)) return EM;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "2024-05-01 10:00" from an ISO time (UTC). */
export const fmtIso = (iso: string | null | undefined): string => (iso ? iso.slice(0, 16).replace("T", " ") : EM);

/** Generation progress: "generation 2 of 4" (0 = the initial population). */
export function fmtGeneration(generation: number | null | undefined, generations: number | null | undefined): string {
  if (!fin(generation)) return EM;
  const g = generation === 0 ? "initial population (generation 0)" : `generation ${generation}`;
  return fin(generations) ? `${g} of ${generations}` : g;
}
