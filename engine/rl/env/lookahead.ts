/**
 * Look-ahead check for a feature matrix. Two tests, each naming the features
 * that fail it:
 *
 * 1. Truncation (decisive): a feature at bar t may depend on bars 0..t only,
 *    so rebuilding the matrix on the series cut after bar k must give the
 *    same rows up to k. At several cut points k the matrix is rebuilt on
 *    bars [0, k] and rows (k - back, k] are compared with the full build;
 *    any column that differs (or that becomes undefined at the cut) reads
 *    bars after the current one.
 * 2. Correlation (a cheap screen that also catches a feature built outside
 *    this pipeline): the correlation of each column at t with the next
 *    bar's log return (t -> t+1) against the one with the current bar's
 *    (t-1 -> t). Nothing legitimate predicts the next bar's return with
 *    |r| >= threshold (0.3 by default).
 *
 * A run must refuse to report results built on a matrix that fails:
 * assertNoLookAhead throws LookAheadError naming the features.
 */
import type { BarColumns } from "../../data/types";
import { buildFeatures, FeatureError, type FeatureMatrix, type FeatureSetSpec, truncateBars } from "./features";
import { Prng } from "./prng";

export interface LookAheadOffence {
  feature: string;
  column: number;
  test: "truncation" | "correlation";
  /** First bar found where the full build differs from the truncated one (truncation), or -1. */
  bar: number;
  detail: string;
}

export interface LookAheadReport {
  ok: boolean;
  offences: LookAheadOffence[];
  /** Names of the offending features (each once). */
  features: string[];
  cuts: number[];
  correlations: { feature: string; next: number; current: number }[];
}

export class LookAheadError extends Error {
  constructor(readonly report: LookAheadReport) {
    super(`look-ahead: feature(s) ${report.features.join(", ")} use bars after the decision bar (${report.offences.map((o) => o.detail).join("; ")}); results built on them are not valid`);
    this.name = "LookAheadError";
  }
}

export interface LookAheadOptions {
  /** Number of cut points (default 12), spread over the series plus random ones. */
  cuts?: number;
  /** Rows before each cut that are compared (default 8). */
  back?: number;
  /** Absolute tolerance for equal values (default 1e-6; the matrix is float32). */
  tolerance?: number;
  /** |correlation with the next return| at or above this fails (default 0.3). */
  correlationThreshold?: number;
  seed?: number;
  /** The full build, if already made. */
  full?: FeatureMatrix;
}

function pearson(x: Float64Array, y: Float64Array, n: number): number {
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/**
 * Check a feature builder for look-ahead. `build` must be deterministic and
 * build the matrix of whatever bars it is given (e.g. (b) => buildFeatures(b, spec)).
 * With build = null only a given matrix (opts.full) is screened, by correlation.
 */
export function checkLookAhead(bars: BarColumns, build: ((bars: BarColumns) => FeatureMatrix) | null, opts: LookAheadOptions = {}): LookAheadReport {
  const n = bars.length;
  const tol = opts.tolerance ?? 1e-6;
  const back = opts.back ?? 8;
  const offences: LookAheadOffence[] = [];
  const flagged = new Set<number>();
  let full: FeatureMatrix;
  if (!build && !opts.full) throw new Error("look-ahead check: give a builder or a matrix (opts.full)");
  try {
    full = opts.full ?? build!(bars);
  } catch (e) {
    if (e instanceof FeatureError && e.lookAhead) {
      const report: LookAheadReport = { ok: false, offences: [{ feature: e.feature, column: -1, test: "truncation", bar: e.bar, detail: e.message }], features: [e.feature], cuts: [], correlations: [] };
      return report;
    }
    throw e;
  }
  const F = full.width;
  const start = Math.max(full.validFrom, 2);

  // 1. truncation at evenly spread and random cut points after the warm-up
  const nCuts = Math.max(1, opts.cuts ?? 12);
  const cuts = new Set<number>();
  if (build && n - 2 > start) {
    const spread = Math.ceil(nCuts / 2);
    for (let k = 1; k <= spread; k++) cuts.add(Math.min(n - 2, start + Math.floor(((n - 2 - start) * k) / (spread + 1))));
    const rnd = new Prng(opts.seed ?? 12345);
    while (cuts.size < nCuts && cuts.size < n - 2 - start) cuts.add(start + rnd.int(n - 2 - start));
  }
  const cutList = [...cuts].sort((a, b) => a - b);
  for (const k of cutList) {
    let part: FeatureMatrix;
    try {
      part = build!(truncateBars(bars, k + 1));
    } catch (e) {
      if (e instanceof FeatureError && e.lookAhead) {
        const j = full.names.indexOf(e.feature);
        if (!flagged.has(j)) {
          flagged.add(j);
          offences.push({ feature: e.feature, column: j, test: "truncation", bar: e.bar, detail: `${e.feature} is undefined at bar ${e.bar} when the series ends there` });
        }
        continue;
      }
      throw e;
    }
    if (part.width !== F) throw new Error(`look-ahead check: the truncated build has ${part.width} columns, the full one ${F}`);
    for (let t = Math.max(0, k - back + 1); t <= k; t++) {
      for (let j = 0; j < F; j++) {
        if (flagged.has(j)) continue;
        const a = full.data[t * F + j]!;
        const b = part.data[t * F + j]!;
        if (!(Math.abs(a - b) <= tol)) {
          flagged.add(j);
          offences.push({ feature: full.names[j]!, column: j, test: "truncation", bar: t, detail: `${full.names[j]} at bar ${t} is ${a} with all bars but ${b} when the series ends at bar ${k}` });
        }
      }
    }
  }

  // 2. correlation with the next bar's return vs the current bar's
  const correlations: LookAheadReport["correlations"] = [];
  const thr = opts.correlationThreshold ?? 0.3;
  const m = n - 1 - start;
  if (m >= 30) {
    const x = new Float64Array(m);
    const next = new Float64Array(m);
    const cur = new Float64Array(m);
    const c = bars.close;
    for (let i = 0; i < m; i++) {
      const t = start + i;
      next[i] = Math.log(c[t + 1]! / c[t]!);
      cur[i] = Math.log(c[t]! / c[t - 1]!);
    }
    for (let j = 0; j < F; j++) {
      for (let i = 0; i < m; i++) x[i] = full.data[(start + i) * F + j]!;
      const rn = pearson(x, next, m);
      const rc = pearson(x, cur, m);
      correlations.push({ feature: full.names[j]!, next: rn, current: rc });
      if (Math.abs(rn) >= thr && !flagged.has(j)) {
        flagged.add(j);
        offences.push({ feature: full.names[j]!, column: j, test: "correlation", bar: -1, detail: `${full.names[j]} correlates ${rn.toFixed(3)} with the NEXT bar's return (${rc.toFixed(3)} with the current one's)` });
      }
    }
  }
  const features = [...new Set(offences.map((o) => o.feature))];
  return { ok: offences.length === 0, offences, features, cuts: cutList, correlations };
}

/**
 * Check a feature set spec. With fixed normalisation the truncated rebuilds
 * reuse the full build's statistics (they come from the training span by
 * construction), so only the features themselves are tested.
 */
export function checkFeatureSet(bars: BarColumns, spec: FeatureSetSpec, opts: LookAheadOptions = {}): LookAheadReport {
  let full: FeatureMatrix | undefined = opts.full;
  if (!full) {
    try {
      full = buildFeatures(bars, spec);
    } catch (e) {
      if (!(e instanceof FeatureError && e.lookAhead)) throw e;
    }
  }
  const stats = full?.stats ?? undefined;
  return checkLookAhead(bars, (b) => buildFeatures(b, spec, stats ? { stats } : {}), { ...opts, full });
}

/** Throw LookAheadError when the report failed. */
export function assertNoLookAhead(report: LookAheadReport): void {
  if (!report.ok) throw new LookAheadError(report);
}
