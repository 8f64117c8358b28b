/**
 * Overfitting statistics for a parameter search. Pure: no I/O.
 *
 * - Per-bar return statistics of one trial (returnStats) and its returns
 *   aggregated into at most a few thousand buckets (bucketLogReturns).
 * - The Deflated Sharpe Ratio (Bailey & López de Prado, 2014): the probability
 *   that the selected trial's true Sharpe ratio is above the best Sharpe ratio
 *   one would expect from N trials of pure noise.
 * - The Probability of Backtest Overfitting by combinatorially symmetric
 *   cross-validation, CSCV (Bailey, Borwein, López de Prado & Zhu, 2015).
 *
 * Returns follow engine/core/metrics.ts: r[i] = e[i] / e[i-1] - 1 with
 * e[-1] = the initial cash, and r = 0 where the base is <= 0.
 */
import { ZERO_DEVIATION } from "../core/metrics";
import { normCdf, normInv } from "./normal";

export const EULER_GAMMA = 0.5772156649015329;

export interface ReturnStats {
  /** Number of per-bar returns. */
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 below ZERO_DEVIATION, as in metrics.ts. */
  std: number;
  /** Skewness m3 / m2^1.5 from population central moments; 0 without deviation. */
  skew: number;
  /** Kurtosis m4 / m2^2, NOT excess (3 for a normal distribution); 3 without deviation. */
  kurt: number;
  /** Per-bar (not annualised) Sharpe ratio mean / std; 0 without deviation. */
  sr: number;
}

/** Moments of the per-bar simple returns of an equity curve, in two passes. */
export function returnStats(equity: ArrayLike<number>, initial: number): ReturnStats {
  const n = equity.length;
  if (n === 0) return { n: 0, mean: 0, std: 0, skew: 0, kurt: 3, sr: 0 };
  let sum = 0;
  let prev = initial;
  for (let i = 0; i < n; i++) {
    const p = equity[i]!;
    sum += prev > 0 ? p / prev - 1 : 0;
    prev = p;
  }
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  prev = initial;
  for (let i = 0; i < n; i++) {
    const p = equity[i]!;
    const d = (prev > 0 ? p / prev - 1 : 0) - mean;
    prev = p;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  let std = n >= 2 ? Math.sqrt(m2 / (n - 1)) : 0;
  if (std < ZERO_DEVIATION) std = 0;
  if (std === 0) return { n, mean, std: 0, skew: 0, kurt: 3, sr: 0 };
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return { n, mean, std, skew: m3 / Math.pow(m2, 1.5), kurt: m4 / (m2 * m2), sr: mean / std };
}

/** Log return of a simple return, floored so a wiped-out account gives a large finite loss (about -27.6). */
function logReturn(r: number): number {
  return Math.log1p(r > -1 + 1e-12 ? r : -1 + 1e-12);
}

/**
 * The per-bar log returns summed into `buckets` contiguous buckets of (almost)
 * equal length: bucket k holds bars [floor(k n / B), floor((k + 1) n / B)), so
 * every trial over the same bar range gets the same boundaries. B is
 * min(buckets, n). Summing log returns keeps each bucket's value the exact
 * log growth over its bars.
 */
export function bucketLogReturns(equity: ArrayLike<number>, initial: number, buckets: number): Float64Array {
  const n = equity.length;
  const b = Math.max(0, Math.min(Math.floor(buckets), n));
  const out = new Float64Array(b);
  if (b === 0) return out;
  let prev = initial;
  let k = 0;
  let end = Math.floor(n / b);
  for (let i = 0; i < n; i++) {
    while (i >= end) {
      k++;
      end = Math.floor(((k + 1) * n) / b);
    }
    const p = equity[i]!;
    out[k]! += logReturn(prev > 0 ? p / prev - 1 : 0);
    prev = p;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Deflated Sharpe Ratio

/**
 * Expected maximum Sharpe ratio of `trials` independent strategies whose true
 * Sharpe ratio is 0 and whose estimated Sharpe ratios have variance `variance`:
 * SR0 = sqrt(V) ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e))), γ the
 * Euler-Mascheroni constant. 0 for fewer than two trials or no variance.
 */
export function expectedMaxSharpe(trials: number, variance: number): number {
  if (!(trials >= 2) || !(variance > 0)) return 0;
  return Math.sqrt(variance) * ((1 - EULER_GAMMA) * normInv(1 - 1 / trials) + EULER_GAMMA * normInv(1 - 1 / (trials * Math.E)));
}

/**
 * Probabilistic Sharpe Ratio: P(true SR > benchmark) given the estimate `sr`
 * from n returns with skewness γ3 and kurtosis γ4 (not excess):
 * Φ((SR - SR*) sqrt(n - 1) / sqrt(1 - γ3 SR + (γ4 - 1)/4 SR²)). All Sharpe
 * ratios per bar (not annualised).
 */
export function probabilisticSharpe(sr: number, benchmark: number, n: number, skew: number, kurt: number): number {
  if (!(n >= 2)) return 0.5;
  // >= (1 - γ3 SR / 2)² >= 0 for any moments that satisfy γ4 >= 1 + γ3²; floored for safety
  const denom = Math.max(1 - skew * sr + ((kurt - 1) / 4) * sr * sr, 1e-12);
  return normCdf(((sr - benchmark) * Math.sqrt(n - 1)) / Math.sqrt(denom));
}

export interface DeflatedSharpeInput {
  /** Per-bar Sharpe ratio of the selected trial. */
  sr: number;
  /** Its number of returns. */
  n: number;
  skew: number;
  /** Not excess. */
  kurt: number;
  /** Number of trials the selection was made from. */
  trials: number;
  /** Variance of the per-bar Sharpe ratios across those trials. */
  variance: number;
}

export interface DeflatedSharpe extends DeflatedSharpeInput {
  /** Expected maximum Sharpe ratio under the null (per bar). */
  sr0: number;
  /** The standardised statistic inside Φ. */
  z: number;
  /** Deflated Sharpe Ratio: PSR with SR0 as the benchmark. */
  dsr: number;
  /** PSR against 0 (no deflation), for comparison. */
  psr: number;
}

export function deflatedSharpe(x: DeflatedSharpeInput): DeflatedSharpe {
  const sr0 = expectedMaxSharpe(x.trials, x.variance);
  const denom = Math.max(1 - x.skew * x.sr + ((x.kurt - 1) / 4) * x.sr * x.sr, 1e-12);
  const z = x.n >= 2 ? ((x.sr - sr0) * Math.sqrt(x.n - 1)) / Math.sqrt(denom) : 0;
  return { ...x, sr0, z, dsr: normCdf(z), psr: probabilisticSharpe(x.sr, 0, x.n, x.skew, x.kurt) };
}

/** Sample variance (n - 1); 0 for fewer than two values. */
export function sampleVariance(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i]!;
  const m = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i]! - m) ** 2;
  return ss / (n - 1);
}

// ---------------------------------------------------------------------------
// Probability of Backtest Overfitting (CSCV)

export interface PboResult {
  /** Fraction of the combinations whose logit is <= 0: the IS-best trial ranked in the lower half out of sample. */
  pbo: number;
  /** Combinations evaluated: C(S, S/2). */
  combinations: number;
  /** S, the number of contiguous blocks the observations were split into. */
  blocks: number;
  trials: number;
  /** Observations (buckets) per trial. */
  observations: number;
  /** Mean and median of the logits λ = ln(ω / (1 - ω)). */
  logitMean: number;
  logitMedian: number;
  /** Fraction of combinations in which the IS-best trial had a negative Sharpe ratio out of sample. */
  probOosLoss: number;
  /** Mean Sharpe ratio (per observation) of the IS-best trial in and out of sample over the combinations. */
  isSharpeMean: number;
  oosSharpeMean: number;
}

/**
 * CSCV without the full matrix: observations are split into S contiguous
 * blocks and each trial is reduced, as it arrives, to the count, sum and sum of
 * squares of its observations per block: all the Sharpe ratio of any union of
 * blocks needs. Memory is 2 S numbers per trial whatever the series length.
 */
export class CscvAccumulator {
  readonly blocks: number;
  private readonly bounds: Int32Array;
  private readonly counts: Float64Array;
  private readonly stats: (Float64Array | undefined)[] = [];
  private count = 0;

  /** `length` observations per trial, split into `blocks` (even, >= 2, <= length) blocks. */
  constructor(
    readonly length: number,
    blocks = 16,
  ) {
    if (!Number.isInteger(blocks) || blocks < 2 || blocks % 2 !== 0) throw new RangeError(`pbo: blocks must be an even integer >= 2, got ${blocks}`);
    if (blocks > 24) throw new RangeError(`pbo: at most 24 blocks (C(24, 12) = 2.7 M combinations), got ${blocks}`);
    if (!(length >= blocks)) throw new RangeError(`pbo: need at least one observation per block (${length} observations, ${blocks} blocks)`);
    this.blocks = blocks;
    this.bounds = new Int32Array(blocks + 1);
    this.counts = new Float64Array(blocks);
    for (let b = 0; b <= blocks; b++) this.bounds[b] = Math.floor((b * length) / blocks);
    for (let b = 0; b < blocks; b++) this.counts[b] = this.bounds[b + 1]! - this.bounds[b]!;
  }

  get trials(): number {
    return this.count;
  }

  /** Adds one trial's observations (e.g. its bucketed log returns) after the others. */
  add(series: ArrayLike<number>): void {
    this.set(this.stats.length, series);
  }

  /** Sets trial `index`'s observations; trials are taken in index order (gaps skipped), so arrival order does not matter. */
  set(index: number, series: ArrayLike<number>): void {
    if (series.length !== this.length) throw new RangeError(`pbo: every trial needs ${this.length} observations, got ${series.length}`);
    const S = this.blocks;
    const st = new Float64Array(2 * S);
    for (let b = 0; b < S; b++) {
      let s = 0;
      let q = 0;
      for (let i = this.bounds[b]!; i < this.bounds[b + 1]!; i++) {
        const v = series[i]!;
        s += v;
        q += v * v;
      }
      st[b] = s;
      st[S + b] = q;
    }
    if (this.stats[index] === undefined) this.count++;
    this.stats[index] = st;
  }

  /** PBO over the trials added so far; null with fewer than two. */
  result(): PboResult | null {
    const rows = this.stats.filter((s): s is Float64Array => s !== undefined);
    const N = rows.length;
    if (N < 2) return null;
    const S = this.blocks;
    const half = S / 2;
    const full = (1 << S) - 1;
    let totalCount = 0;
    for (let b = 0; b < S; b++) totalCount += this.counts[b]!;
    const tot = new Float64Array(2 * N);
    for (let n = 0; n < N; n++) {
      const st = rows[n]!;
      let s = 0;
      let q = 0;
      for (let b = 0; b < S; b++) {
        s += st[b]!;
        q += st[S + b]!;
      }
      tot[2 * n] = s;
      tot[2 * n + 1] = q;
    }
    const srA = new Float64Array(N);
    const srB = new Float64Array(N);
    const logits: number[] = [];
    let oosLoss = 0;
    let isSum = 0;
    let oosSum = 0;
    const members = new Int32Array(half);
    // Each combination C with block 0 in it gives two splits: IS = C, OOS = the
    // complement, and the reverse; together they are all C(S, S/2) splits.
    for (let mask = 1; mask <= full; mask += 2) {
      if (popcount(mask) !== half) continue;
      let m = 0;
      let cntA = 0;
      for (let b = 0; b < S; b++)
        if (mask & (1 << b)) {
          members[m++] = b;
          cntA += this.counts[b]!;
        }
      const cntB = totalCount - cntA;
      for (let n = 0; n < N; n++) {
        const st = rows[n]!;
        let s = 0;
        let q = 0;
        for (let j = 0; j < half; j++) {
          const b = members[j]!;
          s += st[b]!;
          q += st[S + b]!;
        }
        srA[n] = sharpeOf(s, q, cntA);
        srB[n] = sharpeOf(tot[2 * n]! - s, tot[2 * n + 1]! - q, cntB);
      }
      for (const [is, oos] of [
        [srA, srB],
        [srB, srA],
      ] as const) {
        const best = argmax(is);
        const r = rankOf(oos, best);
        const w = r / (N + 1);
        logits.push(Math.log(w / (1 - w)));
        if (oos[best]! < 0) oosLoss++;
        isSum += is[best]!;
        oosSum += oos[best]!;
      }
    }
    const C = logits.length;
    let overfit = 0;
    let lsum = 0;
    for (const l of logits) {
      if (l <= 0) overfit++;
      lsum += l;
    }
    logits.sort((a, b) => a - b);
    const med = C % 2 ? logits[(C - 1) / 2]! : (logits[C / 2 - 1]! + logits[C / 2]!) / 2;
    return {
      pbo: overfit / C,
      combinations: C,
      blocks: S,
      trials: N,
      observations: this.length,
      logitMean: lsum / C,
      logitMedian: med,
      probOosLoss: oosLoss / C,
      isSharpeMean: finiteOr0(isSum / C),
      oosSharpeMean: finiteOr0(oosSum / C),
    };
  }
}

/** PBO of a trials x observations matrix (one series per trial, equal lengths). */
export function probabilityOfBacktestOverfitting(matrix: ReadonlyArray<ArrayLike<number>>, blocks = 16): PboResult | null {
  if (matrix.length === 0) return null;
  const acc = new CscvAccumulator(matrix[0]!.length, blocks);
  for (const row of matrix) acc.add(row);
  return acc.result();
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

/** Sharpe ratio (per observation) from count, sum and sum of squares; ±Infinity for a non-zero mean without deviation. */
function sharpeOf(s: number, q: number, n: number): number {
  if (n < 2) return 0;
  const mean = s / n;
  const v = (q - n * mean * mean) / (n - 1);
  // below rounding noise of the sums: no deviation
  if (!(v > 1e-12 * (q / n)) || !(v > 0)) return mean > 0 ? Infinity : mean < 0 ? -Infinity : 0;
  return mean / Math.sqrt(v);
}

function argmax(a: Float64Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

/** Rank of a[k] among a, 1 = lowest, ties at their mid-rank. */
function rankOf(a: Float64Array, k: number): number {
  const v = a[k]!;
  let below = 0;
  let equal = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < v) below++;
    else if (a[i] === v && i !== k) equal++;
  }
  return below + 1 + equal / 2;
}

function finiteOr0(x: number): number {
  return Number.isFinite(x) ? x : 0;
}
