/**
 * Parameter spaces: which values of which strategy parameters an optimiser may
 * try. Per parameter either a list of values (numbers, booleans, enum options,
 * HH:MM times) or, for int/number parameters, a range {min, max, step}. Every
 * value is checked against the strategy's ParamDef list; errors name the field
 * (space.<param>). Parameters not in the space keep the backtest's value (or
 * the strategy default). Pure: no I/O.
 */
import { z } from "zod";
import { ParamValueSchema } from "../backtest/runner";
import { type ParamDef, type Params, type ParamValue, parseHhMm, type StrategyDef } from "../core/strategies/builtin";

export const GRID_LIMIT = 10_000;
/** Most values one range may expand to. */
export const DIM_LIMIT = 1_000_000;

const RangeSchema = z.object({ min: z.number(), max: z.number(), step: z.number().positive("step must be positive").optional() }).strict();
export const SpaceSchema = z.record(z.string(), z.union([z.array(ParamValueSchema).min(1, "give at least one value"), RangeSchema])).refine((s) => Object.keys(s).length > 0, "the space names no parameter");
export type SpaceSpec = z.input<typeof SpaceSchema>;

export class SpaceError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "SpaceError";
  }
}

/** One dimension: a parameter and its ordered candidate values (numbers ascending). */
export interface Dim {
  name: string;
  type: ParamDef["type"];
  /** True for int/number parameters: mutation moves along the ordered values. */
  numeric: boolean;
  size: number;
  at(i: number): ParamValue;
  /** Every value (materialised on demand; a range may hold up to DIM_LIMIT). */
  values(): ParamValue[];
}

export interface ParamSpace {
  strategyId: string;
  dims: Dim[];
  /** Product of the dimension sizes (may exceed Number.MAX_SAFE_INTEGER in theory; a float then). */
  size: number;
  /** The resolved parameters the space varies around (backtest params + defaults). */
  base: Params;
  /** Values of a point as params (only the varied ones). */
  point(idx: ArrayLike<number>): Params;
  /** The strategy's own cross-field check on base + point: the message, or null when valid. */
  reject(idx: ArrayLike<number>): string | null;
  /** Stable key of a point (its index vector). */
  key(idx: ArrayLike<number>): string;
}

function decimals(x: number): number {
  const s = String(x);
  const e = /e-(\d+)$/.exec(s);
  if (e) return Math.min(15, Number(e[1]) + (s.split("e")[0]!.split(".")[1]?.length ?? 0));
  return s.split(".")[1]?.length ?? 0;
}

function checkValue(d: ParamDef, raw: ParamValue, field: string): ParamValue {
  switch (d.type) {
    case "int":
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw new SpaceError(field, `${field}: ${JSON.stringify(raw)} is not a number`);
      if (d.type === "int" && !Number.isInteger(n)) throw new SpaceError(field, `${field}: ${n} is not a whole number`);
      if (d.name === "size" && !(n > 0)) throw new SpaceError(field, `${field}: size must be positive, got ${n}`);
      if (d.min !== undefined && n < d.min) throw new SpaceError(field, `${field}: ${n} is below the minimum ${d.min}`);
      if (d.max !== undefined && n > d.max) throw new SpaceError(field, `${field}: ${n} is above the maximum ${d.max}`);
      return n;
    }
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "string" && /^(true|false|1|0|yes|no)$/i.test(raw)) return /^(true|1|yes)$/i.test(raw);
      throw new SpaceError(field, `${field}: ${JSON.stringify(raw)} is not true or false`);
    case "enum":
      if (!d.options!.includes(String(raw))) throw new SpaceError(field, `${field}: ${JSON.stringify(raw)} is not one of ${d.options!.join(", ")}`);
      return String(raw);
    case "time":
      if (Number.isNaN(parseHhMm(String(raw)))) throw new SpaceError(field, `${field}: ${JSON.stringify(raw)} is not a time HH:MM`);
      return String(raw);
  }
}

function listDim(d: ParamDef, list: readonly ParamValue[], field: string): Dim {
  const seen = new Set<string>();
  const vals: ParamValue[] = [];
  list.forEach((raw, i) => {
    const v = checkValue(d, raw, `${field}.${i}`);
    const k = `${typeof v}:${String(v)}`;
    if (!seen.has(k)) {
      seen.add(k);
      vals.push(v);
    }
  });
  const numeric = d.type === "int" || d.type === "number";
  if (numeric) (vals as number[]).sort((a, b) => a - b);
  return { name: d.name, type: d.type, numeric, size: vals.length, at: (i) => vals[i]!, values: () => vals.slice() };
}

function rangeDim(d: ParamDef, r: { min: number; max: number; step?: number }, field: string): Dim {
  if (d.type !== "int" && d.type !== "number") throw new SpaceError(field, `${field}: a range {min, max, step} needs a numeric parameter; ${d.name} is ${d.type}, give a list of values`);
  const min = checkValue(d, r.min, `${field}.min`) as number;
  const max = checkValue(d, r.max, `${field}.max`) as number;
  if (min > max) throw new SpaceError(`${field}.min`, `${field}: min (${min}) is above max (${max})`);
  let step = r.step;
  if (step === undefined) {
    if (d.type !== "int") throw new SpaceError(`${field}.step`, `${field}.step: a step is required for the non-integer parameter ${d.name}`);
    step = 1;
  }
  if (!(step > 0) || !Number.isFinite(step)) throw new SpaceError(`${field}.step`, `${field}.step: must be positive`);
  if (d.type === "int" && !Number.isInteger(step)) throw new SpaceError(`${field}.step`, `${field}.step: ${d.name} is a whole number, so the step must be too (got ${step})`);
  const count = Math.floor((max - min) / step + 1e-9) + 1;
  if (count > DIM_LIMIT) throw new SpaceError(field, `${field}: the range holds ${count} values, more than ${DIM_LIMIT}; use a larger step`);
  const dec = Math.max(decimals(min), decimals(step));
  const at = (i: number): number => (d.type === "int" ? min + i * step : Number((min + i * step).toFixed(dec)));
  return { name: d.name, type: d.type, numeric: true, size: count, at, values: () => Array.from({ length: count }, (_, i) => at(i)) };
}

/**
 * A validated space for `def` around `base` (the backtest's resolved params).
 * Throws SpaceError naming the field: unknown parameter, value of the wrong
 * type or outside the ParamDef bounds, bad range.
 */
export function buildSpace(def: StrategyDef, spec: SpaceSpec, base: Params): ParamSpace {
  const parsed = SpaceSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ["space", ...issue.path.map(String)].join(".");
    throw new SpaceError(field, `${field}: ${issue.message}`);
  }
  const defs = new Map(def.params.map((d) => [d.name, d]));
  const dims: Dim[] = [];
  for (const [name, s] of Object.entries(parsed.data)) {
    const field = `space.${name}`;
    const d = defs.get(name);
    if (!d) throw new SpaceError(field, `${field}: unknown parameter '${name}' for strategy ${def.id} (known: ${[...defs.keys()].join(", ")})`);
    if (def.id === "orb" && name === "barMinutes") throw new SpaceError(field, `${field}: barMinutes is set by the runner from the bar size`);
    dims.push(Array.isArray(s) ? listDim(d, s, field) : rangeDim(d, s as { min: number; max: number; step?: number }, field));
  }
  const size = dims.reduce((a, d) => a * d.size, 1);
  const point = (idx: ArrayLike<number>): Params => {
    const p: Params = {};
    dims.forEach((d, k) => (p[d.name] = d.at(idx[k]!)));
    return p;
  };
  return {
    strategyId: def.id,
    dims,
    size,
    base: { ...base },
    point,
    reject(idx) {
      const bad = def.check?.({ ...base, ...point(idx) });
      return bad ? bad[1] : null;
    },
    key: (idx) => Array.prototype.join.call(idx, ","),
  };
}

export interface GridPoints {
  /** Index vectors of the valid points, first dimension slowest. */
  points: number[][];
  /** Points the strategy's own check rejected (e.g. fast >= slow). */
  skipped: number;
  /** The first few rejection messages. */
  skippedExamples: string[];
}

/** Every point of the grid minus those the strategy's check rejects; throws above `limit` points. */
export function enumerateGrid(space: ParamSpace, limit = GRID_LIMIT): GridPoints {
  if (space.size > limit) {
    const sizes = space.dims.map((d) => `${d.name}: ${d.size}`).join(", ");
    throw new SpaceError("space", `space: the grid has ${space.size.toLocaleString("en-US")} points (${sizes}), more than the limit of ${limit.toLocaleString("en-US")}; use larger steps, fewer values, or the genetic search`);
  }
  const points: number[][] = [];
  let skipped = 0;
  const skippedExamples: string[] = [];
  const n = space.dims.length;
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < space.size; c++) {
    const why = space.reject(idx);
    if (why === null) points.push(idx.slice());
    else {
      skipped++;
      if (skippedExamples.length < 3) skippedExamples.push(why);
    }
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k]! < space.dims[k]!.size) break;
      idx[k] = 0;
    }
  }
  return { points, skipped, skippedExamples };
}
