/**
 * Pure helpers of the /training pages: the run form (defaults, field list,
 * config building, server errors to fields), live curves (the stream's
 * points merged with the stored ones, per run), chart scales and thinning,
 * colour scales of the network view, and formatting. No React, no I/O.
 *
 * Types come from the engine (type-only imports); the defaults here are the
 * engine's (model.test.ts checks they stay equal).
 */
import type { TrainProgressData } from "@/engine/events";
import type { NetworkView } from "@/engine/rl/train/network";
import type { CurvePoint, TrainingReport } from "@/engine/rl/train/session";

export type { CurvePoint, TrainingReport } from "@/engine/rl/train/session";
export type { NetworkView } from "@/engine/rl/train/network";

export type EnvId = "cartpole" | "trading";
export type AlgoId = "ppo" | "dqn";
export type TrainStatus = "running" | "stopped" | "done" | "failed";

const EM = "—";
const fin = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

// ------------------------------------------------------------------ defaults (engine/rl/algos/*: CleanRL's)

export const PPO_FORM_DEFAULTS = {
  learningRate: 2.5e-4,
  annealLr: true,
  numSteps: 128,
  gamma: 0.99,
  gaeLambda: 0.95,
  numMinibatches: 4,
  updateEpochs: 4,
  normAdv: true,
  clipCoef: 0.2,
  clipVloss: true,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: null as number | null,
  hidden: [64, 64],
  activation: "tanh" as "tanh" | "relu",
};

/** PPO's network choice (engine PPO_DEFAULTS.network / .attention); the fields show for trading runs. */
export const PPO_NETWORK_FORM_DEFAULTS = {
  network: "mlp" as "mlp" | "attention",
  attention: { dModel: 32, heads: 4 },
};

export const DQN_FORM_DEFAULTS = {
  learningRate: 2.5e-4,
  bufferSize: 10_000,
  gamma: 0.99,
  tau: 1.0,
  targetNetworkFrequency: 500,
  batchSize: 128,
  startE: 1,
  endE: 0.05,
  explorationFraction: 0.5,
  learningStarts: 10_000,
  trainFrequency: 10,
  hidden: [120, 84],
  activation: "relu" as "tanh" | "relu",
  double: false,
  dueling: false,
  nStep: 1,
  loss: "mse" as "mse" | "huber",
  maxGradNorm: null as number | null,
};

/** engine/rl/train/config.ts TradingOptionsSchema defaults. */
export const TRADING_FORM_DEFAULTS = {
  split: { train: 0.6, validation: 0.2, test: 0.2 },
  window: 16,
  episodeLength: 512,
  actions: "target" as "target" | "trade",
  contractSize: 1,
  reward: "pnl" as "pnl" | "pnl_drawdown" | "dsr",
  drawdownPenalty: 0.1,
  cash: 100_000,
  flatAtSessionEnd: false,
};

export const DEFAULT_STEPS = 100_000;

/** Parallel environments the engine uses when the field is blank (engine/rl/train/session.ts). */
export function defaultNumEnvs(env: EnvId, algo: AlgoId): number {
  return env === "cartpole" ? (algo === "ppo" ? 4 : 1) : algo === "ppo" ? 8 : 4;
}

// ------------------------------------------------------------------ form fields

export type FieldKind = "text" | "number" | "int" | "optNumber" | "bool" | "select" | "layers";
export type FieldGroup = "run" | "ppo" | "dqn" | "trading";

export interface FieldDef {
  /** The config path the value goes to (and the key server errors come back under). */
  path: string;
  label: string;
  kind: FieldKind;
  group: FieldGroup;
  options?: readonly { value: string; label: string }[];
  hint?: string;
  /** Optional numbers / text: blank is allowed (see `blank`). */
  optional?: boolean;
  /** What a blank optional value means (shown as the hint). */
  blank?: "omit" | "null";
}

const opt = (...xs: [string, string][]) => xs.map(([value, label]) => ({ value, label }));
const ACTIVATIONS = opt(["tanh", "tanh"], ["relu", "relu"]);

export const FIELDS: readonly FieldDef[] = [
  { path: "name", label: "Name (optional)", kind: "text", group: "run", optional: true, blank: "omit", hint: "blank: algorithm, data and seed" },
  { path: "env", label: "Environment", kind: "select", group: "run", options: opt(["cartpole", "CartPole (sanity check)"], ["trading", "Trading on a stored series"]) },
  { path: "algo", label: "Algorithm", kind: "select", group: "run", options: opt(["ppo", "PPO"], ["dqn", "DQN"]) },
  { path: "steps", label: "Environment steps", kind: "int", group: "run", hint: "total, over all environments (1 to 100,000,000)" },
  { path: "seed", label: "Seed", kind: "int", group: "run", hint: "the same seed and settings give the same run" },
  { path: "numEnvs", label: "Parallel environments", kind: "int", group: "run", optional: true, blank: "omit" },
  { path: "device", label: "Compute device", kind: "select", group: "run", options: opt(["auto", "auto (GPU if usable)"], ["cpu", "CPU"], ["cuda", "GPU (CUDA)"]), hint: "a GPU that is not there: the run says so and uses the CPU" },

  { path: "ppo.learningRate", label: "Learning rate", kind: "number", group: "ppo", hint: "Adam step size, (0, 1]" },
  { path: "ppo.numSteps", label: "Rollout steps per env", kind: "int", group: "ppo", hint: "batch = envs × rollout steps" },
  { path: "ppo.gamma", label: "Discount γ", kind: "number", group: "ppo", hint: "[0, 1]" },
  { path: "ppo.gaeLambda", label: "GAE λ", kind: "number", group: "ppo", hint: "[0, 1]" },
  { path: "ppo.numMinibatches", label: "Minibatches", kind: "int", group: "ppo", hint: "must divide the batch" },
  { path: "ppo.updateEpochs", label: "Update epochs", kind: "int", group: "ppo" },
  { path: "ppo.clipCoef", label: "Clip coefficient", kind: "number", group: "ppo" },
  { path: "ppo.entCoef", label: "Entropy coefficient", kind: "number", group: "ppo" },
  { path: "ppo.vfCoef", label: "Value-loss coefficient", kind: "number", group: "ppo" },
  { path: "ppo.maxGradNorm", label: "Max gradient norm", kind: "number", group: "ppo" },
  { path: "ppo.targetKl", label: "Target KL (optional)", kind: "optNumber", group: "ppo", optional: true, blank: "null", hint: "blank: no early stop on KL" },
  { path: "ppo.hidden", label: "Hidden layers", kind: "layers", group: "ppo", hint: "sizes, comma-separated (1 to 8 layers)" },
  { path: "ppo.activation", label: "Activation", kind: "select", group: "ppo", options: ACTIVATIONS },
  { path: "ppo.network", label: "Network", kind: "select", group: "ppo", options: opt(["mlp", "MLP"], ["attention", "Attention over the window"]), hint: "attention: a transformer encoder over the window's feature rows, then the hidden layers" },
  { path: "ppo.attention.dModel", label: "Attention width d", kind: "int", group: "ppo", hint: "per-row projection size" },
  { path: "ppo.attention.heads", label: "Attention heads", kind: "int", group: "ppo", hint: "must divide d" },
  { path: "ppo.annealLr", label: "Anneal learning rate to 0", kind: "bool", group: "ppo" },
  { path: "ppo.normAdv", label: "Normalise advantages", kind: "bool", group: "ppo" },
  { path: "ppo.clipVloss", label: "Clip value loss", kind: "bool", group: "ppo" },

  { path: "dqn.learningRate", label: "Learning rate", kind: "number", group: "dqn", hint: "Adam step size, (0, 1]" },
  { path: "dqn.bufferSize", label: "Replay buffer", kind: "int", group: "dqn", hint: "transitions kept" },
  { path: "dqn.batchSize", label: "Batch size", kind: "int", group: "dqn" },
  { path: "dqn.gamma", label: "Discount γ", kind: "number", group: "dqn", hint: "[0, 1]" },
  { path: "dqn.tau", label: "Target update rate τ", kind: "number", group: "dqn", hint: "1 = hard copy" },
  { path: "dqn.targetNetworkFrequency", label: "Target update every", kind: "int", group: "dqn", hint: "steps" },
  { path: "dqn.startE", label: "ε start", kind: "number", group: "dqn" },
  { path: "dqn.endE", label: "ε end", kind: "number", group: "dqn" },
  { path: "dqn.explorationFraction", label: "ε decay fraction", kind: "number", group: "dqn", hint: "of the steps" },
  { path: "dqn.learningStarts", label: "Learning starts", kind: "int", group: "dqn", hint: "steps before the first update" },
  { path: "dqn.trainFrequency", label: "Train every", kind: "int", group: "dqn", hint: "steps between gradient steps" },
  { path: "dqn.nStep", label: "n-step returns", kind: "int", group: "dqn" },
  { path: "dqn.maxGradNorm", label: "Max gradient norm (optional)", kind: "optNumber", group: "dqn", optional: true, blank: "null", hint: "blank: no clipping" },
  { path: "dqn.hidden", label: "Hidden layers", kind: "layers", group: "dqn", hint: "sizes, comma-separated (1 to 8 layers)" },
  { path: "dqn.activation", label: "Activation", kind: "select", group: "dqn", options: ACTIVATIONS },
  { path: "dqn.loss", label: "Loss", kind: "select", group: "dqn", options: opt(["mse", "MSE"], ["huber", "Huber"]) },
  { path: "dqn.double", label: "Double DQN", kind: "bool", group: "dqn" },
  { path: "dqn.dueling", label: "Dueling head", kind: "bool", group: "dqn" },

  { path: "trading.symbol", label: "Symbol", kind: "select", group: "trading" },
  { path: "trading.timeframe", label: "Timeframe", kind: "select", group: "trading" },
  { path: "trading.split.train", label: "Train fraction", kind: "number", group: "trading" },
  { path: "trading.split.validation", label: "Validation fraction", kind: "number", group: "trading" },
  { path: "trading.split.test", label: "Test fraction", kind: "number", group: "trading" },
  { path: "trading.window", label: "Observation window (bars)", kind: "int", group: "trading", hint: "1 to 512" },
  { path: "trading.episodeLength", label: "Episode length (bars)", kind: "int", group: "trading", hint: "capped at the train span" },
  {
    path: "trading.actions",
    label: "Actions",
    kind: "select",
    group: "trading",
    options: opt(["target", "target position (short / flat / long)"], ["trade", "trade (hold / buy / sell / close)"]),
  },
  { path: "trading.contractSize", label: "Contracts per unit", kind: "number", group: "trading" },
  { path: "trading.walkForward.folds", label: "Walk-forward folds (optional)", kind: "optNumber", group: "trading", optional: true, blank: "omit", hint: "blank: none; 2–10 extra trainings, each measured on the next block of the development data" },
  { path: "trading.reward", label: "Reward", kind: "select", group: "trading", options: opt(["pnl", "P&L"], ["pnl_drawdown", "P&L minus drawdown penalty"], ["dsr", "differential Sharpe ratio"]) },
  { path: "trading.drawdownPenalty", label: "Drawdown penalty λ", kind: "number", group: "trading", hint: "for the P&L minus drawdown reward" },
  { path: "trading.cash", label: "Starting cash", kind: "number", group: "trading" },
  { path: "trading.flatAtSessionEnd", label: "Flat at session end", kind: "bool", group: "trading" },
];

export const FIELD_BY_PATH: ReadonlyMap<string, FieldDef> = new Map(FIELDS.map((f) => [f.path, f]));

export type FormValues = Record<string, string | boolean>;

function defaultString(v: unknown): string | boolean {
  if (typeof v === "boolean") return v;
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.join(", ");
  return String(v);
}

/** The form with the engine's defaults filled in (CartPole, PPO). */
export function initialFormValues(): FormValues {
  const v: FormValues = { name: "", env: "cartpole", algo: "ppo", steps: String(DEFAULT_STEPS), seed: "1", numEnvs: "", device: "auto" };
  for (const [k, x] of Object.entries(PPO_FORM_DEFAULTS)) v[`ppo.${k}`] = defaultString(x);
  v["ppo.network"] = PPO_NETWORK_FORM_DEFAULTS.network;
  v["ppo.attention.dModel"] = String(PPO_NETWORK_FORM_DEFAULTS.attention.dModel);
  v["ppo.attention.heads"] = String(PPO_NETWORK_FORM_DEFAULTS.attention.heads);
  for (const [k, x] of Object.entries(DQN_FORM_DEFAULTS)) v[`dqn.${k}`] = defaultString(x);
  const t = TRADING_FORM_DEFAULTS;
  Object.assign(v, {
    "trading.symbol": "",
    "trading.timeframe": "",
    "trading.split.train": String(t.split.train),
    "trading.split.validation": String(t.split.validation),
    "trading.split.test": String(t.split.test),
    "trading.window": String(t.window),
    "trading.episodeLength": String(t.episodeLength),
    "trading.actions": t.actions,
    "trading.contractSize": String(t.contractSize),
    "trading.reward": t.reward,
    "trading.drawdownPenalty": String(t.drawdownPenalty),
    "trading.cash": String(t.cash),
    "trading.flatAtSessionEnd": t.flatAtSessionEnd,
    "trading.walkForward.folds": "",
  });
  return v;
}

/** The default (as text) of a field, for "default: ..." hints. */
export function defaultText(path: string): string {
  const d = initialFormValues()[path];
  if (typeof d === "boolean") return d ? "on" : "off";
  return d === "" || d === undefined ? "blank" : d;
}

/** The fields the form shows and sends for an environment and algorithm (and PPO network: the attention fields). */
export function activeFields(env: string, algo: string, network = "mlp"): FieldDef[] {
  return FIELDS.filter((f) => {
    if (f.path === "ppo.network") return algo === "ppo" && env === "trading";
    if (f.path.startsWith("ppo.attention.")) return algo === "ppo" && env === "trading" && network === "attention";
    return f.group === "run" || f.group === algo || (f.group === "trading" && env === "trading");
  });
}

export type TrainErrors = Partial<Record<string, string>>;

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== "object" || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts.at(-1)!] = value;
}

function parseNumber(s: string): number | null {
  const t = s.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** "64, 64" -> [64, 64]; null when a part is not a whole number. */
export function parseLayers(s: string): number[] | null {
  const parts = s.split(/[\s,;x×]+/).filter(Boolean);
  if (parts.length === 0) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return null;
    out.push(Number(p));
  }
  return out;
}

/**
 * Form values to a training config (the JSON training.start and the CLI take),
 * or per-field errors for values that are not even numbers. Range checks are
 * the engine's: its answer names the field (trainErrorsFromServer).
 */
export function buildConfig(v: FormValues): { config: Record<string, unknown> } | { errors: TrainErrors } {
  const env = v.env === "trading" ? "trading" : "cartpole";
  const algo = v.algo === "dqn" ? "dqn" : "ppo";
  const errors: TrainErrors = {};
  const config: Record<string, unknown> = {};
  for (const f of activeFields(env, algo, String(v["ppo.network"] ?? "mlp"))) {
    const raw = v[f.path];
    switch (f.kind) {
      case "bool":
        setPath(config, f.path, raw === true);
        break;
      case "select":
      case "text": {
        const s = typeof raw === "string" ? raw.trim() : "";
        if (s === "") {
          if (f.optional) break;
          errors[f.path] = `${f.path}: pick a value.`;
          break;
        }
        setPath(config, f.path, s);
        break;
      }
      case "layers": {
        const layers = parseLayers(typeof raw === "string" ? raw : "");
        if (!layers) errors[f.path] = `${f.path}: enter layer sizes as whole numbers separated by commas, e.g. 64, 64.`;
        else setPath(config, f.path, layers);
        break;
      }
      case "number":
      case "int":
      case "optNumber": {
        const s = typeof raw === "string" ? raw : "";
        if (s.trim() === "") {
          if (f.optional) {
            if (f.blank === "null") setPath(config, f.path, null);
            break;
          }
          errors[f.path] = `${f.path}: enter a number.`;
          break;
        }
        const n = parseNumber(s);
        if (n === null) errors[f.path] = `${f.path}: "${s.trim()}" is not a number.`;
        else if (f.kind === "int" && !Number.isInteger(n)) errors[f.path] = `${f.path}: must be a whole number.`;
        else setPath(config, f.path, n);
        break;
      }
    }
  }
  if (Object.keys(errors).length) return { errors };
  return { config };
}

/** PPO batch arithmetic for the form's hint; null when the numbers are not usable. */
export function ppoBatch(v: FormValues): { numEnvs: number; batch: number; minibatch: number | null; iterations: number } | null {
  const env = v.env === "trading" ? "trading" : "cartpole";
  const ne = typeof v.numEnvs === "string" && v.numEnvs.trim() !== "" ? parseNumber(v.numEnvs) : defaultNumEnvs(env, "ppo");
  const ns = parseNumber(String(v["ppo.numSteps"] ?? ""));
  const mb = parseNumber(String(v["ppo.numMinibatches"] ?? ""));
  const steps = parseNumber(String(v.steps ?? ""));
  if (ne === null || ns === null || !(ne > 0) || !(ns > 0)) return null;
  const batch = ne * ns;
  return { numEnvs: ne, batch, minibatch: mb !== null && mb > 0 && batch % mb === 0 ? batch / mb : null, iterations: steps !== null && steps > 0 ? Math.floor(steps / batch) : 0 };
}

// ------------------------------------------------------------------ server errors -> fields

/** Section-level keys an error can sit on besides the fields themselves. */
export const GROUP_KEYS = ["form", "ppo", "dqn", "trading", "trading.split"] as const;

/** The form key for a config path as the engine names it ("ppo.hidden.0" -> "ppo.hidden"; "totalTimesteps" -> "steps"). */
export function formKeyOf(path: string): string {
  let p = path.trim().replace(/\[(\d+)\]/g, ".$1");
  if (p === "" || p === "config") return "form";
  if (p === "totalTimesteps" || p.endsWith(".totalTimesteps")) return "steps";
  while (p) {
    if (FIELD_BY_PATH.has(p) || (GROUP_KEYS as readonly string[]).includes(p)) return p;
    const i = p.lastIndexOf(".");
    if (i < 0) break;
    p = p.slice(0, i);
  }
  return "form";
}

export interface ServerErrorLike {
  message: string;
  data?: { code?: string; zodError?: { fieldErrors?: Record<string, string[] | undefined>; formErrors?: string[] } | null; field?: string | null } | null;
}

export const ENGINE_OFFLINE = "Engine offline: training runs in the engine, which is not reachable right now. The launcher restarts it by itself; try again in a moment. Stored runs and models still open.";

/** "ppo: invalid PPO configuration: a must ...; b must ..." -> one error per named hyperparameter. */
function splitAlgoMessage(algo: "ppo" | "dqn", message: string): TrainErrors | null {
  const m = /^(?:ppo|dqn):\s*invalid (?:PPO|DQN) configuration:\s*(.*)$/s.exec(message.trim());
  if (!m) return null;
  const out: TrainErrors = {};
  for (const part of m[1]!.split(/;\s*/).filter(Boolean)) {
    const word = /^([A-Za-z]+)/.exec(part)?.[1] ?? "";
    const key = word === "totalTimesteps" ? "steps" : word === "seed" ? "seed" : FIELD_BY_PATH.has(`${algo}.${word}`) ? `${algo}.${word}` : algo;
    const msg = key === algo ? part : `${key}: ${part}`;
    out[key] = out[key] ? `${out[key]} ${msg}` : msg;
  }
  return out;
}

/** Errors of a refused training.start (or resume), keyed by form field; "form" for the form as a whole. */
export function trainErrorsFromServer(err: ServerErrorLike): TrainErrors {
  const out: TrainErrors = {};
  const add = (k: string, msg: string) => {
    out[k] = out[k] ? `${out[k]} ${msg}` : msg;
  };
  const code = err.data?.code;
  if (code === "SERVICE_UNAVAILABLE") return { form: ENGINE_OFFLINE };
  if (code === "FORBIDDEN" || code === "UNAUTHORIZED") return { form: err.message };
  const zod = err.data?.zodError;
  if (zod && (Object.keys(zod.fieldErrors ?? {}).length || zod.formErrors?.length)) {
    for (const [k, msgs] of Object.entries(zod.fieldErrors ?? {})) if (msgs?.length) add(formKeyOf(k === "config" ? "form" : k), `${k}: ${msgs.join(" ")}`);
    for (const msg of zod.formErrors ?? []) add("form", msg);
    return out;
  }
  const field = err.data?.field ?? /^([A-Za-z][\w.]*)\s*:\s/.exec(err.message.trim())?.[1] ?? null;
  if (field === "ppo" || field === "dqn") {
    const split = splitAlgoMessage(field, err.message);
    if (split) return split;
  }
  add(field ? formKeyOf(field) : "form", err.message);
  return out;
}

// ------------------------------------------------------------------ curves

const CURVE_KEYS = ["episodeReturn", "meanReturn100", "policyLoss", "valueLoss", "entropy", "approxKl", "clipFrac", "tdLoss", "epsilon"] as const;
export type CurveKey = (typeof CURVE_KEYS)[number] | "stepsPerSecond";

/** A stored or streamed curve point, checked: a point without a numeric step is dropped; non-numbers become null. */
export function asCurvePoint(x: unknown): CurvePoint | null {
  if (!x || typeof x !== "object") return null;
  const o = x as Record<string, unknown>;
  if (!fin(o.step)) return null;
  const p = { step: o.step, stepsPerSecond: fin(o.stepsPerSecond) ? o.stepsPerSecond : 0 } as CurvePoint;
  for (const k of CURVE_KEYS) (p as unknown as Record<string, number | null>)[k] = fin(o[k]) ? o[k] : null;
  return p;
}

/** Stored curves (training.run's `curves`) as points in step order. */
export function asCurves(raw: unknown): CurvePoint[] {
  if (!Array.isArray(raw)) return [];
  const out: CurvePoint[] = [];
  for (const x of raw) {
    const p = asCurvePoint(x);
    if (p) out.push(p);
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * One run's curve: the stored points (every iteration up to the last save,
 * the engine saves every 10 s) followed by the streamed points after them
 * (at most 4 a second). Both must be the same run's.
 */
export function mergeCurves(stored: readonly CurvePoint[], live: readonly CurvePoint[] | undefined): CurvePoint[] {
  if (!live || live.length === 0) return [...stored];
  const last = stored.length ? stored[stored.length - 1]!.step : -Infinity;
  const out = [...stored];
  for (const p of live) if (p.step > last && (out.length === 0 || p.step > out[out.length - 1]!.step)) out.push(p);
  return out;
}

export type TrainEvent = TrainProgressData & { ts: string | null };

export interface LiveState {
  /** The latest event per run. */
  latest: ReadonlyMap<string, TrainEvent>;
  /** Streamed curve points per run, in step order. */
  points: ReadonlyMap<string, readonly CurvePoint[]>;
}

export const emptyLive = (): LiveState => ({ latest: new Map(), points: new Map() });

/** The "data" of a "train.progress" stream frame ({type, id, ts, data}), checked; null when malformed. */
export function parseTrainFrame(text: string): TrainEvent | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  const e = o as { ts?: unknown; data?: Record<string, unknown> } | null;
  const d = e?.data;
  if (!d || typeof d.runId !== "string" || typeof d.status !== "string" || !fin(d.step) || !fin(d.totalSteps)) return null;
  return {
    runId: d.runId,
    name: typeof d.name === "string" ? d.name : d.runId,
    status: d.status,
    step: d.step,
    totalSteps: d.totalSteps,
    point: d.point ? asCurvePoint(d.point) : null,
    error: typeof d.error === "string" ? d.error : null,
    modelId: typeof d.modelId === "string" ? d.modelId : null,
    ts: typeof e.ts === "string" ? e.ts : null,
  };
}

/**
 * Adds one stream event to the live state (a new state; the old one is
 * untouched). Points stay per run. A run that goes back in steps (a reset,
 * or a resume from a checkpoint older than the last streamed point after an
 * engine restart) drops the streamed points past where it resumed. At most
 * `cap` points per run are kept (the older half is thinned).
 */
export function applyTrainEvent(state: LiveState, ev: TrainEvent, cap = 4000): LiveState {
  const latest = new Map(state.latest);
  latest.set(ev.runId, ev);
  const points = new Map(state.points);
  let arr = [...(points.get(ev.runId) ?? [])];
  if (ev.status === "stopped" && ev.step === 0 && !ev.point) arr = []; // reset
  else if (!ev.point && ev.status === "running") arr = arr.filter((p) => p.step <= ev.step); // (re)started at ev.step
  if (ev.point) {
    const p = ev.point;
    if (arr.length && p.step < arr[arr.length - 1]!.step) arr = arr.filter((q) => q.step < p.step);
    if (arr.length && arr[arr.length - 1]!.step === p.step) arr[arr.length - 1] = p;
    else arr.push(p);
    if (arr.length > cap) {
      const half = Math.floor(arr.length / 2);
      arr = arr.filter((_, i) => i >= half || i % 2 === 0);
    }
  }
  if (arr.length) points.set(ev.runId, arr);
  else points.delete(ev.runId);
  return { latest, points };
}

export interface RunRowLike {
  status: string;
  steps: number;
  totalSteps: number;
  updatedAt: string;
  error: string | null;
  summary: Record<string, unknown> | null;
}

export interface RunState {
  status: string;
  step: number;
  totalSteps: number;
  error: string | null;
  modelId: string | null;
  /** Mean return of the last 100 episodes: the latest streamed point, else the stored summary. */
  meanReturn100: number | null;
}

/** A run's state from its stored row and its latest stream event, whichever is newer. */
export function runState(row: RunRowLike, ev: TrainEvent | undefined): RunState {
  const sm = row.summary?.meanReturn100;
  const smodel = row.summary?.modelId;
  const summaryMean = fin(sm) ? sm : null;
  const summaryModel = typeof smodel === "string" ? smodel : null;
  const base: RunState = { status: row.status, step: row.steps, totalSteps: row.totalSteps, error: row.error, modelId: summaryModel, meanReturn100: summaryMean };
  if (!ev) return base;
  const evTs = ev.ts ? Date.parse(ev.ts) : NaN;
  const rowTs = Date.parse(row.updatedAt);
  const evNewer = !Number.isFinite(evTs) || !Number.isFinite(rowTs) || evTs >= rowTs;
  if (!evNewer) {
    return ev.status === "running" && row.status === "running" ? { ...base, step: Math.max(row.steps, ev.step), meanReturn100: ev.point?.meanReturn100 ?? base.meanReturn100 } : base;
  }
  const status = ev.status;
  return {
    status,
    step: status === "running" && row.status === "running" ? Math.max(row.steps, ev.step) : ev.step,
    totalSteps: ev.totalSteps || row.totalSteps,
    error: status === "failed" ? (ev.error ?? row.error) : status === "running" ? null : row.error,
    modelId: ev.modelId ?? summaryModel,
    meanReturn100: ev.point ? ev.point.meanReturn100 : status === "stopped" && ev.step === 0 ? null : base.meanReturn100,
  };
}

// ------------------------------------------------------------------ charts

export interface ChartSpec {
  id: string;
  title: string;
  /** Series keys drawn; the first is the main one, the others are faint. */
  keys: CurveKey[];
  hint: string;
  algos: AlgoId[];
  log?: boolean;
}

export const CHARTS: readonly ChartSpec[] = [
  { id: "return", title: "Episode return", keys: ["meanReturn100", "episodeReturn"], hint: "solid: mean of the last 100 episodes; faint: the latest episode", algos: ["ppo", "dqn"] },
  { id: "policyLoss", title: "Policy loss", keys: ["policyLoss"], hint: "clipped surrogate objective", algos: ["ppo"] },
  { id: "valueLoss", title: "Value loss", keys: ["valueLoss"], hint: "critic regression loss", algos: ["ppo"] },
  { id: "entropy", title: "Entropy", keys: ["entropy"], hint: "of the policy's action distribution", algos: ["ppo"] },
  { id: "approxKl", title: "Approx. KL", keys: ["approxKl"], hint: "old vs new policy, per update", algos: ["ppo"] },
  { id: "clipFrac", title: "Clip fraction", keys: ["clipFrac"], hint: "share of samples clipped", algos: ["ppo"] },
  { id: "tdLoss", title: "TD loss", keys: ["tdLoss"], hint: "mean over the gradient steps since the last point", algos: ["dqn"] },
  { id: "epsilon", title: "Exploration ε", keys: ["epsilon"], hint: "chance of a random action", algos: ["dqn"] },
  { id: "sps", title: "Steps per second", keys: ["stepsPerSecond"], hint: "environment steps per wall-clock second", algos: ["ppo", "dqn"] },
];

export const CURVE_LABELS: Record<CurveKey, string> = {
  episodeReturn: "episode return",
  meanReturn100: "mean return (100 ep)",
  policyLoss: "policy loss",
  valueLoss: "value loss",
  entropy: "entropy",
  approxKl: "approx KL",
  clipFrac: "clip fraction",
  tdLoss: "TD loss",
  epsilon: "ε",
  stepsPerSecond: "steps/s",
};

/** The charts for a set of algorithms (the union when runs of both are compared). */
export function chartsFor(algos: Iterable<string>): ChartSpec[] {
  const set = new Set(algos);
  return CHARTS.filter((c) => c.algos.some((a) => set.has(a)));
}

export type XY = [number, number];

/** A curve's values for one key as [step, value], nulls skipped. */
export function seriesOf(points: readonly CurvePoint[], key: CurveKey): XY[] {
  const out: XY[] = [];
  for (const p of points) {
    const y = p[key];
    if (fin(y) && (key !== "stepsPerSecond" || y > 0)) out.push([p.step, y]);
  }
  return out;
}

/**
 * At most `max` points of a series for drawing: per bucket of x the lowest
 * and the highest value (in x order), so spikes survive. First and last kept.
 */
export function thin(points: readonly XY[], max = 600): XY[] {
  if (points.length <= max) return [...points];
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const out: XY[] = [points[0]!];
  const inner = points.length - 2;
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * inner) / buckets);
    const to = 1 + Math.floor(((b + 1) * inner) / buckets);
    if (to <= from) continue;
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (points[i]![1] < points[lo]![1]) lo = i;
      if (points[i]![1] > points[hi]![1]) hi = i;
    }
    if (lo === hi) out.push(points[lo]!);
    else if (lo < hi) out.push(points[lo]!, points[hi]!);
    else out.push(points[hi]!, points[lo]!);
  }
  out.push(points[points.length - 1]!);
  return out;
}

/** The y range of some series, padded 5 %; a flat series gets a visible band. null without data. */
export function yExtent(series: readonly (readonly XY[])[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series)
    for (const [, y] of s) {
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
  if (!Number.isFinite(lo)) return null;
  if (lo === hi) {
    const d = Math.abs(lo) * 0.1 || 1;
    return [lo - d, hi + d];
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** The point of a series nearest to step x (series sorted by step); null when empty. */
export function nearest(points: readonly XY[], x: number): XY | null {
  if (points.length === 0) return null;
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid]![0] <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(points[lo]![0] - x) <= Math.abs(points[hi]![0] - x) ? points[lo]! : points[hi]!;
}

/** SVG polyline points for a series in a w x h box. */
export function polyline(points: readonly XY[], x: [number, number], y: [number, number], w: number, h: number): string {
  const sx = x[1] > x[0] ? w / (x[1] - x[0]) : 0;
  const sy = y[1] > y[0] ? h / (y[1] - y[0]) : 0;
  return points.map(([px, py]) => `${((px - x[0]) * sx).toFixed(1)},${(h - (py - y[0]) * sy).toFixed(1)}`).join(" ");
}

/** Colours of compared runs, in order (the run opened is the first). */
export const RUN_COLORS = ["#3fd08a", "#5aa9e6", "#e5b94a", "#c792ea", "#4fd1c5", "#f78c6c", "#ff79c6"] as const;
export const runColor = (i: number): string => RUN_COLORS[((i % RUN_COLORS.length) + RUN_COLORS.length) % RUN_COLORS.length]!;
export const MAX_COMPARE = RUN_COLORS.length - 1;

// ------------------------------------------------------------------ formatting

/** A figure with sensible precision: 12,345 · 487.25 · 0.0123 · 2.50e-4; "—" for null. */
export function fmtValue(x: number | null | undefined): string {
  if (!fin(x)) return EM;
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e9) return x.toExponential(2);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 1) return String(Number(x.toFixed(2)));
  if (a >= 1e-3) return String(Number(x.toPrecision(3)));
  return x.toExponential(2);
}

/** Steps compactly: 512 · 25k · 1.5M. */
export function fmtSteps(n: number | null | undefined): string {
  if (!fin(n)) return EM;
  const a = Math.abs(n);
  if (a >= 1e6) return `${Number((n / 1e6).toFixed(a >= 1e7 ? 0 : 1))}M`;
  if (a >= 1e3) return `${Number((n / 1e3).toFixed(a >= 1e4 ? 0 : 1))}k`;
  return String(Math.round(n));
}

export const fmtCount = (n: number | null | undefined): string => (fin(n) ? Math.round(n).toLocaleString("en-US") : EM);

/** "steps / total (pct)". */
export function fmtProgress(step: number, total: number): string {
  const pct = total > 0 ? Math.min(100, Math.floor((step / total) * 100)) : 0;
  return `${fmtCount(step)} / ${fmtCount(total)} (${pct}%)`;
}

/** An ISO time as UTC "YYYY-MM-DD HH:MM"; "—" when not a date. */
export function fmtIso(iso: string | null | undefined): string {
  if (!iso) return EM;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return EM;
  return new Date(t).toISOString().slice(0, 16).replace("T", " ");
}

/** Milliseconds as "1h 02m", "3m 05s", "12.3 s". */
export function fmtElapsed(ms: number | null | undefined): string {
  if (!fin(ms) || ms < 0) return EM;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, "0")}m` : `${m}m ${String(sec).padStart(2, "0")}s`;
}

// ------------------------------------------------------------------ reports

export type TradingReport = NonNullable<TrainingReport["trading"]>;
export type Summary = TrainingReport & { modelId?: string };

/** A stored report (run summary or model metrics) when it has the report's shape; else null. */
export function asReport(raw: unknown): Summary | null {
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.env !== "string" || typeof r.algo !== "string" || !fin(r.steps)) return null;
  const s = raw as Summary;
  if (s.trading && (typeof s.trading !== "object" || !s.trading.inSample || !s.trading.outOfSample)) return { ...s, trading: undefined };
  return s;
}

/** Bars in a split span [from, to). */
export const spanBars = (s: { from: number; to: number } | undefined): number | null => (s && fin(s.from) && fin(s.to) ? Math.max(0, s.to - s.from) : null);

/** The headline metrics beside each other for in-sample vs out-of-sample (same keys as the backtest report). */
export const SAMPLE_METRIC_KEYS = ["finalEquity", "totalReturn", "annualizedReturn", "volatility", "sharpe", "sortino", "calmar", "maxDrawdownPct", "exposure", "trades", "winRate", "profitFactor", "totalCommission", "bars"] as const;

/** The columns of the baseline table (metric keys). */
export const BASELINE_METRIC_KEYS = ["totalReturn", "annualizedReturn", "sharpe", "sortino", "maxDrawdownPct", "trades", "winRate"] as const;

export const BASELINE_LABELS: Record<string, string> = { flat: "Flat (no position)", "buy-and-hold": "Buy and hold", "sma-cross": "SMA crossover 10/30" };

/** The figure a model is judged by: CartPole's evaluation return, or a trading model's out-of-sample Sharpe and return. */
export function modelKeyMetric(metrics: unknown): { text: string; label: string } | null {
  const r = asReport(metrics);
  if (!r) return null;
  if (r.evaluation && fin(r.evaluation.meanReturn)) return { text: fmtValue(r.evaluation.meanReturn), label: `evaluation: mean return over ${r.evaluation.episodes} greedy episodes` };
  const oos = r.trading?.outOfSample?.metrics;
  if (oos) {
    const ret = fin(oos.totalReturn) ? `${(oos.totalReturn * 100).toFixed(2)}%` : EM;
    return { text: `Sharpe ${fin(oos.sharpe) ? oos.sharpe.toFixed(2) : EM} · ${ret}`, label: "out-of-sample (test span): Sharpe ratio and total return" };
  }
  return null;
}

// ------------------------------------------------------------------ network view

/** Observation names and slider ranges of CartPole (obs = x, x_dot, theta, theta_dot). */
export const CARTPOLE_OBS = [
  { label: "Cart position", unit: "m", min: -4.8, max: 4.8, step: 0.01, hint: "episode ends beyond ±2.4" },
  { label: "Cart velocity", unit: "m/s", min: -3, max: 3, step: 0.01, hint: "" },
  { label: "Pole angle", unit: "rad", min: -0.418, max: 0.418, step: 0.001, hint: "episode ends beyond ±0.21 (12°)" },
  { label: "Pole angular velocity", unit: "rad/s", min: -3.5, max: 3.5, step: 0.01, hint: "" },
] as const;

/** "0, 1.5 -2" / "[0, 1.5, -2]" -> numbers, exactly `n` of them; else an error naming what is wrong. */
export function parseObs(text: string, n: number): { obs: number[] } | { error: string } {
  const parts = text
    .replace(/[[\]]/g, " ")
    .split(/[\s,;]+/)
    .filter(Boolean);
  const obs: number[] = [];
  for (const p of parts) {
    const x = Number(p);
    if (!Number.isFinite(x)) return { error: `obs: "${p}" is not a number.` };
    obs.push(x);
  }
  if (obs.length !== n) return { error: `obs: ${obs.length} value${obs.length === 1 ? "" : "s"}; the network takes ${n}.` };
  return { obs };
}

/** Names of a policy's actions from its registry row. */
export function actionLabels(env: string, featureSpec: unknown, numActions: number): string[] {
  if (env === "cartpole" && numActions === 2) return ["push left", "push right"];
  const mode = (featureSpec as { actions?: unknown } | null)?.actions;
  if (mode === "trade" && numActions === 4) return ["hold", "buy 1 unit", "sell 1 unit", "close"];
  if (mode === "target" && numActions % 2 === 1) {
    const m = (numActions - 1) / 2;
    return Array.from({ length: numActions }, (_, a) => {
      const u = a - m;
      if (m === 1) return u < 0 ? "short" : u > 0 ? "long" : "flat";
      return u === 0 ? "flat" : `target ${u > 0 ? "+" : ""}${u} units`;
    });
  }
  return Array.from({ length: numActions }, (_, a) => `action ${a}`);
}

/** Input neuron names (CartPole's four; trading: "t-k feature j", then position and unrealised P&L). */
export function inputLabels(env: string, size: number): string[] | null {
  if (env === "cartpole" && size === 4) return ["x", "ẋ", "θ", "θ̇"];
  return null;
}

/** Activation colour: green for positive, red for negative, intensity by |a| / scale. */
export function activationColor(a: number, scale: number): string {
  if (!Number.isFinite(a)) return "rgba(125, 138, 150, 0.4)";
  const t = Math.min(1, Math.abs(a) / (scale > 0 ? scale : 1));
  const alpha = (0.08 + 0.92 * t).toFixed(3);
  return a >= 0 ? `rgba(63, 208, 138, ${alpha})` : `rgba(239, 91, 91, ${alpha})`;
}

/** The colour scale of a layer's activations: tanh is bounded by 1; others by the layer's largest |a|. */
export function activationScale(values: readonly number[], activation: string | undefined): number {
  if (activation === "tanh") return 1;
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m > 0 ? m : 1;
}

/** An edge's stroke for weight w: sign by colour (green +, red -), magnitude by opacity and width; null when |w| is below `threshold` x the layer's largest |w|. */
export function weightStroke(w: number, maxAbs: number, threshold = 0.2): { color: string; opacity: number; width: number } | null {
  if (!Number.isFinite(w) || !(maxAbs > 0)) return null;
  const t = Math.abs(w) / maxAbs;
  if (t < threshold) return null;
  return { color: w >= 0 ? "#3fd08a" : "#ef5b5b", opacity: Number((0.1 + 0.7 * t).toFixed(3)), width: Number((0.4 + 1.4 * t).toFixed(2)) };
}

export interface NetNode {
  layer: number;
  /** The neuron's index in its layer. */
  index: number;
  x: number;
  y: number;
  r: number;
  value: number;
  fill: string;
}

export interface NetEdge {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  w: number;
  color: string;
  opacity: number;
  width: number;
}

export interface NetLayout {
  width: number;
  height: number;
  columns: { x: number; size: number; shown: number; stride: number; activation: string; scale: number }[];
  nodes: NetNode[];
  edges: NetEdge[];
  /** Edges with |w| under the threshold, not drawn. */
  hiddenEdges: number;
  /** The output node of the chosen action (dueling heads: the action's advantage node). */
  actionNode: NetNode | null;
}

/**
 * Where to draw a network view: one column per layer; layers over 64 neurons
 * show every stride-th neuron (the ones the downsampled weights connect);
 * edges under `threshold` x the layer's largest |w| are left out, and at most
 * `maxEdges` of the strongest per layer are drawn.
 */
export function networkLayout(view: NetworkView, opts: { threshold?: number; dueling?: boolean; colGap?: number; maxNodeGap?: number; height?: number; maxEdges?: number; padX?: number; padY?: number } = {}): NetLayout {
  const threshold = opts.threshold ?? 0.2;
  const colGap = opts.colGap ?? 120;
  const padX = opts.padX ?? 70;
  const padY = opts.padY ?? 14;
  const maxEdges = opts.maxEdges ?? 1500;
  const L = view.layers.length;
  const strides = view.layers.map((l, i) => {
    const next = view.layers[i + 1];
    if (next?.stride) return next.stride[0];
    if (l.stride) return l.stride[1];
    return Math.max(1, Math.ceil(l.size / 64));
  });
  const shownIdx = view.layers.map((l, i) => {
    const out: number[] = [];
    for (let k = 0; k < l.size; k += strides[i]!) out.push(k);
    return out;
  });
  const maxShown = Math.max(1, ...shownIdx.map((s) => s.length));
  const height = opts.height ?? Math.max(140, Math.min(640, maxShown * 9 + 2 * padY));
  const inner = height - 2 * padY;
  const width = padX * 2 + colGap * Math.max(0, L - 1);
  const nodes: NetNode[] = [];
  const byLayer: NetNode[][] = [];
  const columns: NetLayout["columns"] = [];
  view.layers.forEach((layer, li) => {
    const idx = shownIdx[li]!;
    const gap = Math.min(opts.maxNodeGap ?? 30, inner / Math.max(1, idx.length));
    const top = padY + (inner - gap * idx.length) / 2 + gap / 2;
    const x = padX + li * colGap;
    const act = li === 0 ? "input" : (layer.activation ?? "none");
    const scale = activationScale(layer.activations, li === 0 ? undefined : layer.activation);
    columns.push({ x, size: layer.size, shown: idx.length, stride: strides[li]!, activation: act, scale });
    const r = Math.max(2, Math.min(7, gap * 0.38));
    const col = idx.map((k, n) => {
      const value = layer.activations[k] ?? NaN;
      const node: NetNode = { layer: li, index: k, x, y: top + n * gap, r, value, fill: activationColor(value, scale) };
      nodes.push(node);
      return node;
    });
    byLayer.push(col);
  });
  const edges: NetEdge[] = [];
  let hiddenEdges = 0;
  for (let li = 1; li < L; li++) {
    const W = view.layers[li]!.weights;
    if (!W) continue;
    let maxAbs = 0;
    for (const row of W) for (const w of row) if (Number.isFinite(w) && Math.abs(w) > maxAbs) maxAbs = Math.abs(w);
    const from = byLayer[li - 1]!;
    const to = byLayer[li]!;
    const cand: NetEdge[] = [];
    W.forEach((row, i) =>
      row.forEach((w, j) => {
        const a = from[i];
        const b = to[j];
        if (!a || !b) return;
        const s = weightStroke(w, maxAbs, threshold);
        if (!s) {
          hiddenEdges++;
          return;
        }
        cand.push({ x1: a.x, y1: a.y, x2: b.x, y2: b.y, w, ...s });
      }),
    );
    if (cand.length > maxEdges) {
      cand.sort((p, q) => Math.abs(q.w) - Math.abs(p.w));
      hiddenEdges += cand.length - maxEdges;
      cand.length = maxEdges;
    }
    // weak edges first so strong ones draw on top
    cand.sort((p, q) => Math.abs(p.w) - Math.abs(q.w));
    edges.push(...cand);
  }
  const out = byLayer[L - 1] ?? [];
  const actionIndex = opts.dueling ? view.action + 1 : view.action;
  return { width, height, columns, nodes, edges, hiddenEdges, actionNode: out.find((n) => n.index === actionIndex) ?? null };
}

// ------------------------------------------------------------------ configuration display and comparison

/** A nested config as ["ppo.gamma", "0.99"] pairs (arrays as "64, 64"), in key order. */
export function flattenConfig(config: unknown, prefix = ""): [string, string][] {
  if (config === null || config === undefined) return prefix ? [[prefix, "—"]] : [];
  if (Array.isArray(config)) return [[prefix, config.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ")]];
  if (typeof config !== "object") return [[prefix, String(config)]];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) out.push(...flattenConfig(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

/** The keys whose values differ between configs (a key missing from one counts as "—" there), each with its values per config. */
export function configDiff(configs: readonly unknown[]): { key: string; values: string[] }[] {
  const maps = configs.map((c) => new Map(flattenConfig(c)));
  const keys: string[] = [];
  for (const m of maps) for (const k of m.keys()) if (!keys.includes(k)) keys.push(k);
  const out: { key: string; values: string[] }[] = [];
  for (const k of keys) {
    const values = maps.map((m) => m.get(k) ?? "—");
    if (new Set(values).size > 1) out.push({ key: k, values });
  }
  return out;
}

/** The figure a finished run is judged by, from its summary (as modelKeyMetric); for unfinished runs null. */
export const runKeyMetric = (summary: unknown) => modelKeyMetric(summary);
