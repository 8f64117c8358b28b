/**
 * The optimisation pages' pure side: the job form's values to a
 * backtest.optimize job (and its live grid size), server errors to form
 * fields, a typed view of a stored OptimizationRun row, the heatmap matrix,
 * Pareto sorting, trial sorting and chart ticks. No React, no I/O. Every
 * figure shown comes from the stored result; nothing here invents a value.
 */
import type { OptimizationResult } from "@/engine/optimize/run";
import type { Trial } from "@/engine/optimize/search";
import type { OptimizeProgressData } from "@/engine/events";
import { TIMEFRAMES, type Timeframe } from "@/engine/data/types";
import { fieldOfMessage, normalizeField, type ServerErrorLike } from "@/app/(app)/backtests/form-errors";
import { fmtNum, fmtPct, type ParamValue } from "@/app/(app)/backtests/report-model";

export type { ParamValue } from "@/app/(app)/backtests/report-model";

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const fin = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const numOrNull = (v: unknown): number | null => (fin(v) ? v : null);
const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);
const EM = "—";

// ------------------------------------------------------------------ objectives and limits

/** The engine's objectives (engine/optimize/search.ts OBJECTIVES; the test checks they match). */
export const OBJECTIVES = ["sharpe", "sortino", "totalReturn", "profitFactor", "maxDrawdownPct"] as const;
export type ObjectiveId = (typeof OBJECTIVES)[number];

export const OBJECTIVE_INFO: Record<ObjectiveId, { label: string; fmt: "ratio" | "pct"; better: "higher" | "lower" }> = {
  sharpe: { label: "Sharpe ratio", fmt: "ratio", better: "higher" },
  sortino: { label: "Sortino ratio", fmt: "ratio", better: "higher" },
  totalReturn: { label: "Total return", fmt: "pct", better: "higher" },
  profitFactor: { label: "Profit factor", fmt: "ratio", better: "higher" },
  maxDrawdownPct: { label: "Max drawdown", fmt: "pct", better: "lower" },
};

export const isObjective = (v: unknown): v is ObjectiveId => typeof v === "string" && (OBJECTIVES as readonly string[]).includes(v);

/** engine/optimize/space.ts GRID_LIMIT and DIM_LIMIT (the test checks they match). */
export const GRID_LIMIT = 10_000;
export const DIM_LIMIT = 1_000_000;

export type OptimizeKind = "grid" | "genetic" | "walk_forward";
export const KIND_LABEL: Record<OptimizeKind, string> = { grid: "grid", genetic: "genetic", walk_forward: "walk-forward" };
const isKind = (v: unknown): v is OptimizeKind => v === "grid" || v === "genetic" || v === "walk_forward";

/** An objective's value as text: "∞" for an infinite profit factor (stored as null with the flag), "—" when there is none. */
export function fmtObjective(objective: string, value: number | null | undefined, infinite = false): string {
  if (infinite && (value === null || value === undefined)) return "∞";
  if (value === null || value === undefined || !Number.isFinite(value)) return EM;
  return isObjective(objective) && OBJECTIVE_INFO[objective].fmt === "pct" ? fmtPct(value) : fmtNum(value, 3);
}

/** A stored count with thousands separators, or "—" when the result does not hold it. */
export function fmtCount(x: number | null | undefined): string {
  return typeof x === "number" && Number.isFinite(x) ? x.toLocaleString("en-US") : EM;
}

export function objectiveLabel(o: string): string {
  return isObjective(o) ? OBJECTIVE_INFO[o].label : o;
}

// ------------------------------------------------------------------ parameter space (form)

/** A strategy parameter as backtest.strategies() lists it. */
export interface ParamDefLike {
  name: string;
  type: "int" | "number" | "bool" | "enum" | "time";
  default: ParamValue;
  min?: number;
  max?: number;
  options?: readonly string[];
  description: string;
}

export type SpecMode = "fixed" | "range" | "list";

/** One parameter's row in the form; every mode keeps its own inputs so switching loses nothing. */
export interface ParamSpecForm {
  mode: SpecMode;
  value: string;
  min: string;
  max: string;
  step: string;
  /** Comma-separated values (numbers or HH:MM times). */
  list: string;
  /** Enum options / "true" "false" chosen (enum and bool parameters). */
  picked: string[];
}

export const isNumericDef = (d: Pick<ParamDefLike, "type">) => d.type === "int" || d.type === "number";
export const isPickDef = (d: Pick<ParamDefLike, "type">) => d.type === "enum" || d.type === "bool";

/** Parameters the runner sets by itself (the ORB's bar size) or the form sets apart (size) are not offered. */
export const runnerSet = (d: Pick<ParamDefLike, "description">) => /set by the runner/i.test(d.description);
export const spaceParams = <D extends ParamDefLike>(defs: readonly D[] | undefined): D[] => (defs ?? []).filter((d) => d.name !== "size" && !runnerSet(d));

function parseNum(s: string): number | null {
  const t = s.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** A number that reads well as a default step: 1, 2 or 5 times a power of ten, about (max - min) / 5. */
function roughStep(range: number, int: boolean): number {
  if (!(range > 0)) return 1;
  const x = range / 5;
  const p = 10 ** Math.floor(Math.log10(x));
  const f = x / p;
  const step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
  return int ? Math.max(1, Math.round(step)) : Number(step.toPrecision(6));
}

/**
 * The form's starting row for a parameter: the first two numeric parameters
 * as a range around the default (half to double, inside the bounds), other
 * numeric and time parameters fixed at the default, enums and booleans with
 * only the default picked (so fixed).
 */
export function defaultSpec(d: ParamDefLike, asRange: boolean): ParamSpecForm {
  const spec: ParamSpecForm = { mode: "fixed", value: String(d.default), min: "", max: "", step: "", list: String(d.default), picked: isPickDef(d) ? [String(d.default)] : [] };
  if (isNumericDef(d) && typeof d.default === "number") {
    const int = d.type === "int";
    let lo = d.default / 2;
    let hi = d.default * 2;
    if (d.min !== undefined) lo = Math.max(lo, d.min);
    if (d.max !== undefined) hi = Math.min(hi, d.max);
    if (int) {
      lo = Math.ceil(lo);
      hi = Math.floor(hi);
    }
    if (!(hi > lo)) {
      lo = d.default;
      hi = d.default;
    }
    const step = roughStep(hi - lo, int);
    spec.min = String(Number(lo.toPrecision(6)));
    spec.max = String(Number(hi.toPrecision(6)));
    spec.step = String(step);
    if (asRange && hi > lo) spec.mode = "range";
  }
  return spec;
}

export function defaultSpecs(defs: readonly ParamDefLike[]): Record<string, ParamSpecForm> {
  const out: Record<string, ParamSpecForm> = {};
  let ranges = 0;
  for (const d of spaceParams(defs)) {
    const asRange = isNumericDef(d) && ranges < 2;
    out[d.name] = defaultSpec(d, asRange);
    if (out[d.name]!.mode === "range") ranges++;
  }
  return out;
}

/** Values a range {min, max, step} expands to, counted as the engine counts them; null when it is not a valid range. */
export function rangeCount(min: number, max: number, step: number): number | null {
  if (!Number.isFinite(min) || !Number.isFinite(max) || !Number.isFinite(step) || !(step > 0) || min > max) return null;
  return Math.floor((max - min) / step + 1e-9) + 1;
}

function splitList(s: string): string[] {
  return s
    .split(/[,\s;]+/)
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/** The distinct values of a list row, parsed for the parameter's type; null with the first bad entry. */
function listValues(d: ParamDefLike, s: string): { values: ParamValue[] } | { bad: string } {
  const seen = new Set<string>();
  const values: ParamValue[] = [];
  for (const raw of splitList(s)) {
    let v: ParamValue;
    if (isNumericDef(d)) {
      const n = parseNum(raw);
      if (n === null) return { bad: raw };
      v = n;
    } else v = raw;
    const k = `${typeof v}:${String(v)}`;
    if (!seen.has(k)) {
      seen.add(k);
      values.push(v);
    }
  }
  return { values };
}

function pickValues(d: ParamDefLike, picked: readonly string[]): ParamValue[] {
  const uniq = [...new Set(picked)];
  // in the parameter's own order
  const order = d.type === "bool" ? ["true", "false"] : [...(d.options ?? [])];
  uniq.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return d.type === "bool" ? uniq.map((x) => x === "true") : uniq;
}

export interface DimInfo {
  name: string;
  /** Values this parameter takes (1 = fixed); null when its inputs do not parse. */
  size: number | null;
}

/** How many values one parameter row gives (1 for a fixed value); null when the inputs are not valid. */
export function dimSize(d: ParamDefLike, spec: ParamSpecForm | undefined): number | null {
  if (!spec) return 1;
  if (isPickDef(d)) {
    const n = new Set(spec.picked).size;
    return n > 0 ? n : null;
  }
  if (spec.mode === "fixed") return spec.value.trim() === "" ? null : 1;
  if (spec.mode === "list") {
    const r = listValues(d, spec.list);
    return "values" in r && r.values.length > 0 ? r.values.length : null;
  }
  if (!isNumericDef(d)) return null;
  const min = parseNum(spec.min);
  const max = parseNum(spec.max);
  const step = spec.step.trim() === "" ? (d.type === "int" ? 1 : null) : parseNum(spec.step);
  if (min === null || max === null || step === null) return null;
  return rangeCount(min, max, step);
}

export interface GridSize {
  dims: DimInfo[];
  /** Product of the sizes; null when a row does not parse. */
  total: number | null;
  /** Parameters with more than one value. */
  varied: string[];
}

/** The number of parameter combinations of the form's space (before the strategy's own checks skip any). */
export function gridSize(defs: readonly ParamDefLike[], specs: Readonly<Record<string, ParamSpecForm>>): GridSize {
  const dims = spaceParams(defs).map((d) => ({ name: d.name, size: dimSize(d, specs[d.name]) }));
  const total = dims.some((d) => d.size === null) ? null : dims.reduce((a, d) => a * (d.size ?? 1), 1);
  return { dims, total, varied: dims.filter((d) => (d.size ?? 0) > 1).map((d) => d.name) };
}

/** The value nearest the strategy default among a dimension's values (the base the engine validates the job with). */
function nearestTo(d: ParamDefLike, values: readonly ParamValue[]): ParamValue {
  if (values.some((v) => v === d.default)) return d.default;
  if (typeof d.default === "number") {
    const def = d.default;
    let best = values[0]!;
    for (const v of values) if (typeof v === "number" && typeof best === "number" && Math.abs(v - def) < Math.abs(best - def)) best = v;
    return best;
  }
  return values[0]!;
}

function nearestInRange(d: ParamDefLike, min: number, max: number, step: number, count: number): number {
  const def = typeof d.default === "number" ? d.default : min;
  const i = Math.min(count - 1, Math.max(0, Math.round((def - min) / step)));
  return Number((min + i * step).toPrecision(12));
}

export type SpaceEntry = ParamValue[] | { min: number; max: number; step?: number };

export interface BuiltSpace {
  space: Record<string, SpaceEntry>;
  /**
   * backtest.params: fixed values, plus for each varied parameter the value of
   * its space nearest the strategy default (every trial overrides it; the
   * engine validates the backtest with it, so a default that clashes with a
   * fixed value, e.g. fast 10 against a fixed slow of 5, cannot fail the job).
   */
  params: Record<string, ParamValue>;
  errors: Record<string, string>;
}

/** The form's parameter rows as the job's space and fixed parameters; errors keyed "space.<name>". */
export function buildSpace(defs: readonly ParamDefLike[], specs: Readonly<Record<string, ParamSpecForm>>): BuiltSpace {
  const space: Record<string, SpaceEntry> = {};
  const params: Record<string, ParamValue> = {};
  const errors: Record<string, string> = {};
  for (const d of spaceParams(defs)) {
    const s = specs[d.name];
    if (!s) continue;
    const key = `space.${d.name}`;
    if (isPickDef(d)) {
      const vals = pickValues(d, s.picked);
      if (vals.length === 0) errors[key] = `${d.name}: pick at least one value.`;
      else if (vals.length === 1) params[d.name] = vals[0]!;
      else {
        space[d.name] = vals;
        params[d.name] = nearestTo(d, vals);
      }
      continue;
    }
    if (s.mode === "fixed") {
      if (s.value.trim() === "") errors[key] = `${d.name}: enter a value.`;
      else if (isNumericDef(d)) {
        const n = parseNum(s.value);
        if (n === null) errors[key] = `${d.name}: enter a number.`;
        else params[d.name] = n;
      } else params[d.name] = s.value.trim();
      continue;
    }
    if (s.mode === "list") {
      const r = listValues(d, s.list);
      if ("bad" in r) errors[key] = `${d.name}: ${JSON.stringify(r.bad)} is not a number.`;
      else if (r.values.length === 0) errors[key] = `${d.name}: give at least one value, separated by commas.`;
      else if (r.values.length === 1) params[d.name] = r.values[0]!;
      else {
        space[d.name] = r.values;
        params[d.name] = nearestTo(d, r.values);
      }
      continue;
    }
    // range
    if (!isNumericDef(d)) {
      errors[key] = `${d.name}: a range needs a numeric parameter.`;
      continue;
    }
    const min = parseNum(s.min);
    const max = parseNum(s.max);
    const stepGiven = s.step.trim() !== "";
    const step = stepGiven ? parseNum(s.step) : null;
    if (min === null || max === null) {
      errors[key] = `${d.name}: enter a number for ${min === null ? "min" : "max"}.`;
      continue;
    }
    if (stepGiven && step === null) {
      errors[key] = `${d.name}: enter a number for step.`;
      continue;
    }
    if (!stepGiven && d.type !== "int") {
      errors[key] = `${d.name}: a step is required (${d.name} is not a whole number).`;
      continue;
    }
    // anything else (min above max, bounds, step sign) the engine checks and names
    space[d.name] = stepGiven ? { min, max, step: step! } : { min, max };
    const count = rangeCount(min, max, step ?? 1);
    if (count !== null && count >= 1) {
      if (count === 1) {
        delete space[d.name];
        params[d.name] = min;
      } else params[d.name] = nearestInRange(d, min, max, step ?? 1, count);
    }
  }
  return { space, params, errors };
}

// ------------------------------------------------------------------ the job

export type CommissionKind = "default" | "none" | "per_contract" | "percent" | "per_fill";
export type Commission = { kind: "none" } | { kind: "per_contract"; amount: number } | { kind: "percent"; percent: number } | { kind: "per_fill"; amount: number };

export const GENETIC_KEYS = ["population", "generations", "mutationRate", "crossoverRate", "elite", "seed"] as const;
export type GeneticKey = (typeof GENETIC_KEYS)[number];
export const WF_KEYS = ["folds", "inSampleBars", "outOfSampleBars", "stepBars", "anchored", "optimizer", "warmupBars"] as const;
export type WfKey = (typeof WF_KEYS)[number];

export interface OptimizeFormValues {
  symbol: string;
  timeframe: Timeframe | "";
  strategy: string;
  specs: Record<string, ParamSpecForm>;
  size: string;
  cash: string;
  commissionKind: CommissionKind;
  commissionValue: string;
  slippageTicks: string;
  sameBarPolicy: "stop_first" | "target_first";
  from: string;
  to: string;
  kind: OptimizeKind;
  objective: ObjectiveId;
  genetic: Record<GeneticKey, string>;
  wf: {
    windows: "folds" | "bars";
    folds: string;
    inSampleBars: string;
    outOfSampleBars: string;
    stepBars: string;
    anchored: boolean;
    optimizer: "grid" | "genetic";
    /** "auto" or a number of bars. */
    warmupBars: string;
  };
}

/** Form fields an error can be shown next to; "form" = the form as a whole. */
export type OptField =
  | "symbol"
  | "timeframe"
  | "strategy"
  | "size"
  | "cash"
  | "commission"
  | "slippageTicks"
  | "sameBarPolicy"
  | "from"
  | "to"
  | "kind"
  | "objective"
  | "space"
  | `space.${string}`
  | "genetic"
  | `genetic.${GeneticKey}`
  | "walkForward"
  | `walkForward.${WfKey}`
  | "form";

export type OptErrors = Partial<Record<OptField, string>>;

export const DEFAULT_GENETIC: Record<GeneticKey, string> = { population: "32", generations: "10", mutationRate: "0.2", crossoverRate: "0.9", elite: "", seed: "1" };

export function initialFormValues(): OptimizeFormValues {
  return {
    symbol: "",
    timeframe: "",
    strategy: "",
    specs: {},
    size: "",
    cash: "100000",
    commissionKind: "default",
    commissionValue: "",
    slippageTicks: "0",
    sameBarPolicy: "stop_first",
    from: "",
    to: "",
    kind: "grid",
    objective: "sharpe",
    genetic: { ...DEFAULT_GENETIC },
    wf: { windows: "folds", folds: "4", inSampleBars: "", outOfSampleBars: "", stepBars: "", anchored: false, optimizer: "grid", warmupBars: "auto" },
  };
}

const dayStart = (d: string) => Date.parse(`${d}T00:00:00Z`);

export type OptimizeJob = {
  kind: OptimizeKind;
  backtest: {
    symbol: string;
    timeframe: Timeframe;
    strategy: string;
    params: Record<string, ParamValue>;
    size?: number;
    cash: number;
    commission?: Commission;
    slippageTicks: number;
    sameBarPolicy: "stop_first" | "target_first";
    from?: number;
    to?: number;
  };
  space: Record<string, SpaceEntry>;
  objective: ObjectiveId;
  genetic?: { population: number; generations: number; mutationRate: number; crossoverRate: number; elite?: number; seed: number };
  walkForward?: { folds?: number; inSampleBars?: number; outOfSampleBars?: number; stepBars?: number; anchored: boolean; optimizer: "grid" | "genetic"; warmupBars: number | "auto" };
};

/**
 * Form values to a backtest.optimize job, or the fields whose inputs are not
 * even numbers. Ranges, bounds and cross-field rules are the engine's to
 * check: it names the field in its answer.
 */
export function buildJob(v: OptimizeFormValues, defs: readonly ParamDefLike[]): { job: OptimizeJob } | { errors: OptErrors } {
  const errors: OptErrors = {};
  if (!v.symbol) errors.symbol = "Pick a symbol.";
  if (!v.timeframe || !(TIMEFRAMES as readonly string[]).includes(v.timeframe)) errors.timeframe = "Pick a timeframe.";
  if (!v.strategy) errors.strategy = "Pick a strategy.";
  const cash = parseNum(v.cash);
  if (cash === null) errors.cash = "cash: enter a number, e.g. 100000.";
  const size = parseNum(v.size);
  if (v.size.trim() !== "" && size === null) errors.size = "size: enter a number of contracts.";
  const slip = v.slippageTicks.trim() === "" ? 0 : parseNum(v.slippageTicks);
  if (slip === null) errors.slippageTicks = "slippage: enter a number of ticks (0 for none).";
  let commission: Commission | undefined;
  if (v.commissionKind === "none") commission = { kind: "none" };
  else if (v.commissionKind !== "default") {
    const x = parseNum(v.commissionValue);
    if (x === null) errors.commission = "commission: enter a number.";
    else commission = v.commissionKind === "percent" ? { kind: "percent", percent: x } : { kind: v.commissionKind, amount: x };
  }
  const from = v.from ? dayStart(v.from) : undefined;
  const to = v.to ? dayStart(v.to) + 86_400_000 - 1 : undefined; // the whole "to" day
  if (from !== undefined && !Number.isFinite(from)) errors.from = "from: not a date.";
  if (to !== undefined && !Number.isFinite(to)) errors.to = "to: not a date.";

  const built = buildSpace(defs, v.specs);
  Object.assign(errors, built.errors);
  if (!Object.keys(built.errors).length && Object.keys(built.space).length === 0) errors.space = "Vary at least one parameter: give it a range, a list or more than one value.";

  const needGenetic = v.kind === "genetic" || (v.kind === "walk_forward" && v.wf.optimizer === "genetic");
  let genetic: OptimizeJob["genetic"];
  if (needGenetic) {
    const g: Partial<Record<GeneticKey, number>> = {};
    for (const k of GENETIC_KEYS) {
      const raw = v.genetic[k];
      if (k === "elite" && raw.trim() === "") continue;
      const n = parseNum(raw);
      if (n === null) errors[`genetic.${k}`] = `${k}: enter a number.`;
      else g[k] = n;
    }
    if (GENETIC_KEYS.every((k) => k === "elite" || g[k] !== undefined)) {
      genetic = { population: g.population!, generations: g.generations!, mutationRate: g.mutationRate!, crossoverRate: g.crossoverRate!, seed: g.seed!, ...(g.elite !== undefined ? { elite: g.elite } : {}) };
    }
  }
  let walkForward: OptimizeJob["walkForward"];
  if (v.kind === "walk_forward") {
    const w = v.wf;
    const num = (k: "folds" | "inSampleBars" | "outOfSampleBars" | "stepBars", required: boolean): number | undefined => {
      const raw = w[k];
      if (raw.trim() === "") {
        if (required) errors[`walkForward.${k}`] = `${k}: enter a number of ${k === "folds" ? "folds" : "bars"}.`;
        return undefined;
      }
      const n = parseNum(raw);
      if (n === null) errors[`walkForward.${k}`] = `${k}: enter a number.`;
      return n ?? undefined;
    };
    const wf: NonNullable<OptimizeJob["walkForward"]> = { anchored: w.anchored, optimizer: w.optimizer, warmupBars: "auto" };
    if (w.windows === "folds") {
      const f = num("folds", true);
      if (f !== undefined) wf.folds = f;
    } else {
      const is = num("inSampleBars", true);
      const oos = num("outOfSampleBars", true);
      const st = num("stepBars", false);
      if (is !== undefined) wf.inSampleBars = is;
      if (oos !== undefined) wf.outOfSampleBars = oos;
      if (st !== undefined) wf.stepBars = st;
    }
    const warm = w.warmupBars.trim().toLowerCase();
    if (warm !== "" && warm !== "auto") {
      const n = parseNum(warm);
      if (n === null) errors["walkForward.warmupBars"] = "warm-up: \"auto\" or a number of bars.";
      else wf.warmupBars = n;
    }
    walkForward = wf;
  }
  if (Object.keys(errors).length) return { errors };

  return {
    job: {
      kind: v.kind,
      backtest: {
        symbol: v.symbol,
        timeframe: v.timeframe as Timeframe,
        strategy: v.strategy,
        params: built.params,
        ...(size !== null ? { size } : {}),
        cash: cash!,
        ...(commission ? { commission } : {}),
        slippageTicks: slip!,
        sameBarPolicy: v.sameBarPolicy,
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      },
      space: built.space,
      objective: v.objective,
      ...(genetic ? { genetic } : {}),
      ...(walkForward ? { walkForward } : {}),
    },
  };
}

/** Trials the job will run: grid (at most; the strategy's checks may skip points), genetic population x (generations + 1), walk-forward per fold plus one out-of-sample run. Null when not known before the run. */
export function plannedTrials(v: OptimizeFormValues, grid: number | null): number | null {
  const g = (k: GeneticKey) => parseNum(v.genetic[k]);
  const geneticTrials = () => {
    const p = g("population");
    const n = g("generations");
    return p !== null && n !== null && p > 0 && n >= 0 ? p * (n + 1) : null;
  };
  if (v.kind === "grid") return grid;
  if (v.kind === "genetic") return geneticTrials();
  const per = v.wf.optimizer === "grid" ? grid : geneticTrials();
  const folds = v.wf.windows === "folds" ? parseNum(v.wf.folds) : null;
  return per !== null && folds !== null && folds > 0 ? folds * (per + 1) : null;
}

// ------------------------------------------------------------------ server errors to fields

function backtestFieldToOpt(f: string): OptField {
  if (f.startsWith("params.")) return `space.${f.slice("params.".length)}`;
  return f as OptField;
}

/** Maps a field path as the engine or tRPC names it ("space.fast.min", "backtest.params.fast", "walkForward.folds") to a form field. */
export function optFieldOf(path: string, paramNames: readonly string[]): OptField {
  const p = path.trim();
  const parts = p.split(".");
  const head = parts[0] ?? "";
  const second = parts[1] ?? "";
  switch (head) {
    case "space":
      return second && paramNames.includes(second) ? `space.${second}` : "space";
    case "genetic":
      return (GENETIC_KEYS as readonly string[]).includes(second) ? `genetic.${second as GeneticKey}` : "genetic";
    case "walkForward":
      return (WF_KEYS as readonly string[]).includes(second) ? `walkForward.${second as WfKey}` : "walkForward";
    case "kind":
      return "kind";
    case "objective":
      return "objective";
    case "backtest": {
      const rest = parts.slice(1).join(".");
      return rest ? backtestFieldToOpt(normalizeField(rest, paramNames)) : "form";
    }
    case "params":
      return backtestFieldToOpt(normalizeField(p, paramNames));
    default: {
      const f = normalizeField(p, paramNames);
      return f === "form" ? "form" : backtestFieldToOpt(f);
    }
  }
}

/** The form field a server message is about ("space.fast: ...", "backtest: cash: ...", "backtest.params.fast: ..."); "form" when it names none. */
export function optFieldOfMessage(message: string, paramNames: readonly string[]): OptField {
  const m = message.trim();
  // the router's own check: "backtest: symbol: Pick a symbol."
  const bt = /^backtest\s*:\s*(.*)$/s.exec(m);
  if (bt) return backtestFieldToOpt(fieldOfMessage(bt[1]!, paramNames));
  const prefix = /^([A-Za-z][\w.]*)\s*:\s/.exec(m);
  if (prefix) {
    const f = optFieldOf(prefix[1]!, paramNames);
    if (f !== "form") return f;
  }
  if (/^backtest\./.test(m)) return backtestFieldToOpt(fieldOfMessage(m.slice("backtest.".length), paramNames));
  return "form";
}

/** Field errors of a refused backtest.optimize (or of an optimisation that failed as it started), keyed by form field. */
export function optErrorsFromServer(err: ServerErrorLike, paramNames: readonly string[]): OptErrors {
  const out: OptErrors = {};
  const add = (f: OptField, msg: string) => {
    out[f] = out[f] ? `${out[f]} ${msg}` : msg;
  };
  const code = err.data?.code;
  if (code === "SERVICE_UNAVAILABLE") {
    add("form", "The engine is offline, so no optimisation can start right now. The launcher restarts it by itself; try again in a moment. Past optimisations below still open.");
    return out;
  }
  if (code === "FORBIDDEN" || code === "UNAUTHORIZED") {
    add("form", err.message);
    return out;
  }
  const zod = err.data?.zodError;
  if (zod && (Object.keys(zod.fieldErrors ?? {}).length || zod.formErrors?.length)) {
    for (const [k, msgs] of Object.entries(zod.fieldErrors ?? {})) {
      if (msgs?.length) add(k === "job" ? "form" : optFieldOf(k, paramNames), `${k}: ${msgs.join(" ")}`);
    }
    for (const msg of zod.formErrors ?? []) add("form", msg);
    return out;
  }
  const explicit = err.data?.field;
  add(explicit ? optFieldOf(explicit, paramNames) : optFieldOfMessage(err.message, paramNames), err.message);
  return out;
}

// ------------------------------------------------------------------ stored rows

/** Every number of the stored JSON may be null (the engine writes non-finite numbers as null). */
export type JsonSafe<T> = T extends number ? number | null : T extends readonly (infer U)[] ? JsonSafe<U>[] : T extends object ? { [K in keyof T]: JsonSafe<T[K]> } : T;

/** A stored trial; its id is checked to be a number. */
export type StoredTrial = Omit<JsonSafe<Trial>, "id"> & { id: number };
export type StoredResult = Omit<JsonSafe<OptimizationResult>, "trials" | "best" | "pareto"> & { trials: StoredTrial[]; best: StoredTrial | null; pareto?: StoredTrial[] };
export type StoredFold = NonNullable<StoredResult["walkForward"]>["folds"][number];
export type StoredOverfit = StoredResult["overfit"];
export type StoredGeneration = NonNullable<StoredResult["generations"]>[number];
export type StoredTrialMetrics = NonNullable<StoredTrial["metrics"]>;

export type OptStatus = "running" | "done" | "failed" | "cancelled";
const toStatus = (v: unknown): OptStatus => (v === "done" || v === "failed" || v === "cancelled" ? v : "running");

/** The job as stored (OptimizationRun.config): the backtest is already the engine's config. */
export interface JobView {
  kind: OptimizeKind | null;
  objective: string;
  symbol: string | null;
  timeframe: string | null;
  strategy: string | null;
  params: Record<string, ParamValue>;
  instrument: string | null;
  size: number | null;
  cash: number | null;
  commission: Commission | null;
  slippageTicks: number;
  sameBarPolicy: "stop_first" | "target_first" | null;
  from: number | null;
  to: number | null;
  space: Record<string, unknown>;
  genetic: Record<string, unknown> | null;
  walkForward: Record<string, unknown> | null;
}

function paramsOf(v: unknown): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === "string" || typeof x === "boolean" || fin(x)) out[k] = x;
  return out;
}

function commissionOf(v: unknown): Commission | null {
  if (!isObj(v)) return null;
  if (v.kind === "none") return { kind: "none" };
  if ((v.kind === "per_contract" || v.kind === "per_fill") && fin(v.amount)) return { kind: v.kind, amount: v.amount };
  if (v.kind === "percent" && fin(v.percent)) return { kind: "percent", percent: v.percent };
  return null;
}

export function toJobView(config: unknown): JobView {
  const c = isObj(config) ? config : {};
  const b = isObj(c.backtest) ? c.backtest : {};
  const data = isObj(b.data) ? b.data : {};
  // the UI's input (symbol, slippageTicks) or the engine's config (data.symbol, slippage)
  const slip = isObj(b.slippage) && b.slippage.kind === "ticks" && fin(b.slippage.ticks) ? b.slippage.ticks : fin(b.slippageTicks) ? b.slippageTicks : 0;
  return {
    kind: isKind(c.kind) ? c.kind : null,
    objective: typeof c.objective === "string" ? c.objective : "sharpe",
    symbol: strOrNull(data.symbol) ?? strOrNull(b.symbol),
    timeframe: strOrNull(data.timeframe) ?? strOrNull(b.timeframe),
    strategy: strOrNull(b.strategy),
    params: paramsOf(b.params),
    instrument: strOrNull(b.instrument),
    size: numOrNull(b.size),
    cash: numOrNull(b.cash),
    commission: commissionOf(b.commission),
    slippageTicks: slip,
    sameBarPolicy: b.sameBarPolicy === "stop_first" || b.sameBarPolicy === "target_first" ? b.sameBarPolicy : null,
    from: numOrNull(b.from),
    to: numOrNull(b.to),
    space: isObj(c.space) ? c.space : {},
    genetic: isObj(c.genetic) ? c.genetic : null,
    walkForward: isObj(c.walkForward) ? c.walkForward : null,
  };
}

function parseTrial(v: unknown): StoredTrial | null {
  if (!isObj(v) || !fin(v.id) || !isObj(v.params)) return null;
  const metrics = isObj(v.metrics) ? (v.metrics as unknown as StoredTrialMetrics) : null;
  return { ...(v as unknown as StoredTrial), params: paramsOf(v.params), ok: v.ok === true && metrics !== null, metrics, objective: numOrNull(v.objective) };
}

/** The stored result, checked at the top level (kind, trials); malformed trials are left out and counted. */
export function parseResult(raw: unknown, jobObjective = "sharpe"): { result: StoredResult; droppedTrials: number } | null {
  if (!isObj(raw) || !isKind(raw.kind) || !Array.isArray(raw.trials)) return null;
  const trials: StoredTrial[] = [];
  let dropped = 0;
  for (const t of raw.trials) {
    const p = parseTrial(t);
    if (p) trials.push(p);
    else dropped++;
  }
  const r = raw as unknown as StoredResult;
  const overfit = isObj(raw.overfit) ? r.overfit : { deflatedSharpe: null, pbo: null, notes: [] };
  // the objective and its direction as the job asked (the engine's default is sharpe) when the result does not say
  const objective = isObjective(raw.objective) ? raw.objective : isObjective(jobObjective) ? jobObjective : "sharpe";
  return {
    result: {
      ...r,
      objective,
      better: raw.better === "higher" || raw.better === "lower" ? raw.better : OBJECTIVE_INFO[objective].better,
      trials,
      best: raw.best ? parseTrial(raw.best) : null,
      pareto: Array.isArray(raw.pareto) ? raw.pareto.map(parseTrial).filter((t): t is StoredTrial => t !== null) : undefined,
      generations: Array.isArray(raw.generations) ? (raw.generations.filter(isObj) as unknown as StoredGeneration[]) : undefined,
      fixedParams: paramsOf(raw.fixedParams),
      overfit: { deflatedSharpe: overfit.deflatedSharpe ?? null, pbo: overfit.pbo ?? null, notes: Array.isArray(overfit.notes) ? overfit.notes.filter((n): n is string => typeof n === "string") : [] },
    },
    droppedTrials: dropped,
  };
}

export interface OptimizationView {
  id: string;
  kind: OptimizeKind | null;
  status: OptStatus;
  /** Fraction 0..1 the engine stores every couple of seconds while running. */
  progress: number | null;
  error: string | null;
  createdAt: string | null;
  finishedAt: string | null;
  job: JobView;
  result: StoredResult | null;
  droppedTrials: number;
}

/** A row of backtest.optimization (or of the list, without result) as a typed view. */
export function toOptimizationView(row: Record<string, unknown>): OptimizationView {
  const job = toJobView(row.config);
  const parsed = "result" in row ? parseResult(row.result, job.objective) : null;
  return {
    id: String(row.id ?? ""),
    kind: isKind(row.kind) ? row.kind : job.kind,
    status: toStatus(row.status),
    progress: numOrNull(row.progress),
    error: strOrNull(row.error),
    createdAt: strOrNull(row.createdAt),
    finishedAt: strOrNull(row.finishedAt),
    job,
    result: parsed?.result ?? null,
    droppedTrials: parsed?.droppedTrials ?? 0,
  };
}

/** What the list can show of a run: from the row, or else from its latest stream event (null = not known). */
export function listFigures(view: OptimizationView, row: Record<string, unknown>, ev: OptimizeProgressData | undefined): { trials: number | null; total: number | null; best: number | null } {
  // rows may carry a summary (trials, total, bestObjective) or the whole result
  if (view.result) return { trials: view.result.trials.length, total: view.result.total, best: view.result.best?.objective ?? null };
  const trials = numOrNull(row.trials);
  const total = numOrNull(row.total);
  const best = numOrNull(row.bestObjective);
  if (trials !== null || best !== null) return { trials, total, best };
  if (ev && ev.total > 0) return { trials: ev.done, total: ev.total, best: ev.best ? numOrNull(ev.best.objective) : null };
  return { trials: null, total: null, best: null };
}

// ------------------------------------------------------------------ a trial as a full backtest

export interface RunInputLike {
  symbol: string;
  timeframe: Timeframe;
  strategy: string;
  params: Record<string, ParamValue>;
  instrument?: string;
  size?: number;
  /** Omitted when the stored job has none: backtest.run then uses its own default. */
  cash?: number;
  commission?: Commission;
  slippageTicks: number;
  sameBarPolicy?: "stop_first" | "target_first";
  from?: number;
  to?: number;
}

/** backtest.run input for a trial: the optimisation's data, costs and fixed parameters with the trial's parameters over them. */
export function runInputForTrial(job: JobView, trialParams: Record<string, ParamValue>): { input: RunInputLike } | { error: string } {
  if (!job.symbol || !job.timeframe || !(TIMEFRAMES as readonly string[]).includes(job.timeframe)) return { error: "The stored job names no stored series (symbol and timeframe), so the backtest cannot be rebuilt." };
  if (!job.strategy) return { error: "The stored job names no strategy." };
  return {
    input: {
      symbol: job.symbol,
      timeframe: job.timeframe as Timeframe,
      strategy: job.strategy,
      params: { ...job.params, ...trialParams },
      ...(job.instrument ? { instrument: job.instrument } : {}),
      ...(job.size !== null ? { size: job.size } : {}),
      ...(job.cash !== null ? { cash: job.cash } : {}),
      ...(job.commission ? { commission: job.commission } : {}),
      slippageTicks: job.slippageTicks,
      ...(job.sameBarPolicy ? { sameBarPolicy: job.sameBarPolicy } : {}),
      ...(job.from !== null ? { from: job.from } : {}),
      ...(job.to !== null ? { to: job.to } : {}),
    },
  };
}

// ------------------------------------------------------------------ trials table

export type SortKey = "id" | "objective" | "sharpe" | "maxDrawdownPct" | "totalReturn" | "trades" | "profitFactor";
export type SortDir = "asc" | "desc";

function sortValue(t: StoredTrial, key: SortKey): number | null {
  if (key === "id") return t.id;
  if (key === "objective") return t.objective;
  const m = t.metrics;
  if (!m || !t.ok) return null;
  if (key === "profitFactor") return m.profitFactorInfinite ? Infinity : m.profitFactor;
  return m[key];
}

/**
 * Trials sorted by a column; trials without the figure (failed ones, an
 * infinite profit factor as objective) always last, ties by id. An infinite
 * profit factor sorts as the largest when sorting by profit factor.
 */
export function sortTrials(trials: readonly StoredTrial[], key: SortKey, dir: SortDir): StoredTrial[] {
  const sign = dir === "asc" ? 1 : -1;
  return trials
    .map((t) => ({ t, v: sortValue(t, key) }))
    .sort((a, b) => {
      const an = a.v === null || Number.isNaN(a.v);
      const bn = b.v === null || Number.isNaN(b.v);
      if (an || bn) return an === bn ? a.t.id - b.t.id : an ? 1 : -1;
      if (a.v === b.v) return a.t.id - b.t.id;
      return (a.v! < b.v! ? -1 : 1) * sign;
    })
    .map((x) => x.t);
}

/** The sort direction that puts the best first. */
export function bestFirst(key: SortKey, objectiveBetter: "higher" | "lower"): SortDir {
  if (key === "id") return "asc";
  if (key === "objective") return objectiveBetter === "lower" ? "asc" : "desc";
  if (key === "maxDrawdownPct") return "asc";
  return "desc";
}

export function pageOf<T>(rows: readonly T[], page: number, size: number): { rows: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(0, page), pages - 1);
  return { rows: rows.slice(p * size, p * size + size), page: p, pages };
}

/** "fast=10 slow=30". */
export function fmtParamList(params: Record<string, ParamValue | null>): string {
  const e = Object.entries(params);
  return e.length ? e.map(([k, v]) => `${k}=${String(v)}`).join(" ") : "none";
}

// ------------------------------------------------------------------ heatmap

const valueKey = (v: ParamValue | null | undefined) => `${typeof v}:${String(v)}`;

/** Values in display order: numbers ascending, then booleans, then strings in first-seen order (enum order when given). */
export function orderValues(values: readonly ParamValue[]): ParamValue[] {
  const seen = new Set<string>();
  const uniq: ParamValue[] = [];
  for (const v of values) {
    const k = valueKey(v);
    if (!seen.has(k)) {
      seen.add(k);
      uniq.push(v);
    }
  }
  const nums = uniq.filter((v): v is number => typeof v === "number").sort((a, b) => a - b);
  const bools = uniq.filter((v): v is boolean => typeof v === "boolean").sort((a, b) => Number(b) - Number(a));
  const strs = uniq.filter((v): v is string => typeof v === "string");
  return [...nums, ...bools, ...strs];
}

export interface HeatmapMatrix {
  x: { param: string; values: ParamValue[] };
  /** null: one row (a single-parameter space, or no y axis chosen). */
  y: { param: string; values: ParamValue[] } | null;
  /** z[yi][xi]: the best objective at that cell over the other parameters; null = no trial with a finite objective. */
  z: (number | null)[][];
  /** The trial that holds each cell's value. */
  trial: (StoredTrial | null)[][];
  /** Extremes of the finite cells (null when no cell has a value). */
  min: number | null;
  max: number | null;
  better: "higher" | "lower";
}

/**
 * Objective values over two parameters from the trials, as the engine builds
 * its heatmap (engine/optimize/grid.ts heatmap): each cell holds the best
 * objective over the other parameters (the first trial wins a tie), cells
 * without a successful trial with a finite objective are null. `known` adds
 * axis values no trial reached (e.g. points the strategy's check skipped).
 */
export function buildHeatmap(
  trials: readonly StoredTrial[],
  x: string,
  y: string | null,
  better: "higher" | "lower",
  known: Readonly<Record<string, readonly ParamValue[]>> = {},
): HeatmapMatrix {
  const xs = orderValues([...(known[x] ?? []), ...trials.map((t) => t.params[x]).filter((v): v is ParamValue => v !== undefined && v !== null)]);
  const ys = y ? orderValues([...(known[y] ?? []), ...trials.map((t) => t.params[y]).filter((v): v is ParamValue => v !== undefined && v !== null)]) : null;
  const xi = new Map(xs.map((v, i) => [valueKey(v), i]));
  const yi = ys ? new Map(ys.map((v, i) => [valueKey(v), i])) : null;
  const rows = ys ? ys.length : 1;
  const z: (number | null)[][] = Array.from({ length: rows }, () => new Array<number | null>(xs.length).fill(null));
  const trial: (StoredTrial | null)[][] = Array.from({ length: rows }, () => new Array<StoredTrial | null>(xs.length).fill(null));
  const sign = better === "lower" ? -1 : 1;
  for (const t of trials) {
    if (!t.ok || t.objective === null || !Number.isFinite(t.objective)) continue;
    const cx = xi.get(valueKey(t.params[x]));
    const cy = yi && y ? yi.get(valueKey(t.params[y])) : 0;
    if (cx === undefined || cy === undefined) continue;
    const cur = z[cy]![cx]!;
    if (cur === null || sign * t.objective > sign * cur) {
      z[cy]![cx] = t.objective;
      trial[cy]![cx] = t;
    }
  }
  let min: number | null = null;
  let max: number | null = null;
  for (const row of z)
    for (const v of row) {
      if (v === null) continue;
      if (min === null || v < min) min = v;
      if (max === null || v > max) max = v;
    }
  return { x: { param: x, values: xs }, y: y && ys ? { param: y, values: ys } : null, z, trial, min, max, better };
}

/** 0 = worst .. 1 = best of the map, for a cell's value; 0.5 when every cell is equal. */
export function heatPosition(v: number, min: number, max: number, better: "higher" | "lower"): number {
  if (!(max > min)) return 0.5;
  const t = Math.min(1, Math.max(0, (v - min) / (max - min)));
  return better === "lower" ? 1 - t : t;
}

/** Cell colour: red (worst) through the panel colour to green (best), from the theme's --color-bad and --color-accent. */
export function heatCellColor(pos: number): string {
  const bad = [239, 91, 91];
  const mid = [21, 28, 35];
  const good = [63, 208, 138];
  const mix = (a: number[], b: number[], t: number) => a.map((c, i) => Math.round(c + (b[i]! - c) * t));
  const c = pos < 0.5 ? mix(bad, mid, pos / 0.5) : mix(mid, good, (pos - 0.5) / 0.5);
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Default heatmap axes: the stored heatmap's, else the first two parameters the space varies. */
export function defaultAxes(result: Pick<StoredResult, "heatmap" | "space">): { x: string | null; y: string | null } {
  const h = result.heatmap;
  if (h && typeof h.x?.param === "string") return { x: h.x.param, y: h.y?.param ?? null };
  const params = result.space?.params ?? [];
  const varied = params.filter((p) => (p.size ?? 0) > 1).map((p) => p.name);
  const axes = varied.length ? varied : params.map((p) => p.name);
  return { x: axes[0] ?? null, y: axes[1] ?? null };
}

// ------------------------------------------------------------------ Pareto

export interface XY {
  x: number;
  y: number;
}

/**
 * The non-dominated points when x is minimised and y maximised (drawdown
 * against Sharpe), sorted by x ascending (then y descending): the order the
 * front is drawn in, from the safest to the most rewarding. Points with a
 * non-finite coordinate are left out; identical points are all kept (as
 * engine/optimize/genetic.ts paretoFront keeps them).
 */
export function paretoFront<T>(points: readonly T[], get: (p: T) => XY | null): T[] {
  const pts = points
    .map((p) => ({ p, xy: get(p) }))
    .filter((e): e is { p: T; xy: XY } => e.xy !== null && Number.isFinite(e.xy.x) && Number.isFinite(e.xy.y))
    .sort((a, b) => a.xy.x - b.xy.x || b.xy.y - a.xy.y);
  const out: T[] = [];
  let last: XY | null = null;
  for (const e of pts) {
    // sorted by x: a point is on the front iff its y beats every point with a smaller (or equal) x, or it repeats the last front point
    if (last === null || e.xy.y > last.y || (e.xy.x === last.x && e.xy.y === last.y)) {
      out.push(e.p);
      last = e.xy;
    }
  }
  return out;
}

/** Points (e.g. the stored Pareto trials) in drawing order: x ascending, then y descending. */
export function sortFront<T>(points: readonly T[], get: (p: T) => XY | null): T[] {
  return points
    .map((p) => ({ p, xy: get(p) }))
    .filter((e): e is { p: T; xy: XY } => e.xy !== null && Number.isFinite(e.xy.x) && Number.isFinite(e.xy.y))
    .sort((a, b) => a.xy.x - b.xy.x || b.xy.y - a.xy.y)
    .map((e) => e.p);
}

/** A trial's drawdown (x) and Sharpe (y), or null when it has none. */
export const trialXY = (t: StoredTrial): XY | null => (t.ok && t.metrics && fin(t.metrics.maxDrawdownPct) && fin(t.metrics.sharpe) ? { x: t.metrics.maxDrawdownPct, y: t.metrics.sharpe } : null);

/** Round axis ticks covering [min, max] (about `count` of them) and the padded domain they span. */
export function niceTicks(min: number, max: number, count = 5): { ticks: number[]; lo: number; hi: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { ticks: [], lo: 0, hi: 1 };
  let lo = Math.min(min, max);
  let hi = Math.max(min, max);
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  const start = Number((Math.floor(lo / step) * step).toPrecision(12));
  const end = Number((Math.ceil(hi / step) * step).toPrecision(12));
  const ticks: number[] = [];
  for (let k = 0; start + k * step <= end + step * 1e-9; k++) ticks.push(Number((start + k * step).toPrecision(12)));
  return { ticks, lo: start, hi: end };
}
