/**
 * Central finite-difference gradient checking (test support).
 *
 * checkGradient(f, x, analytic) perturbs every entry of x by +-h (default 1e-5, which balances
 * truncation error h^2 f''' against float64 round-off eps f / h), takes (f(x+h) - f(x-h)) / 2h and
 * compares with the analytic gradient. The relative error of an entry is |a - n| / max(|a|, |n|);
 * entries whose gradient is (numerically) zero — dead ReLU units, clipped PPO terms — cannot have a
 * meaningful relative error: entries where both are below `zeroBelow` (default 1e-7) report the
 * absolute difference instead (maxAbsErrorAtZero), which the caller bounds. For a composite loss
 * whose gradient entries span many orders of magnitude, `zeroBelowRel` raises that threshold to a
 * fraction of the largest analytic entry: round-off in f (about eps * |f| / h) is then the floor
 * of the absolute error, and a relative error below it says nothing about the code.
 */

export interface GradCheckResult {
  /** worst relative error over entries with a non-negligible gradient */
  maxRelError: number;
  /** worst absolute difference over entries whose gradient is ~0 */
  maxAbsErrorAtZero: number;
  /** entries checked with a relative error */
  checked: number;
  /** index of the worst relative error */
  worst: number;
}

export function checkGradient(f: () => number, x: Float64Array, analytic: Float64Array, opts: { h?: number; zeroBelow?: number; zeroBelowRel?: number } = {}): GradCheckResult {
  const h = opts.h ?? 1e-5;
  let gmax = 0;
  for (let k = 0; k < analytic.length; k++) gmax = Math.max(gmax, Math.abs(analytic[k]!));
  const zeroBelow = Math.max(opts.zeroBelow ?? 1e-7, (opts.zeroBelowRel ?? 0) * gmax);
  let maxRel = 0,
    maxAbs0 = 0,
    checked = 0,
    worst = -1;
  for (let k = 0; k < x.length; k++) {
    const orig = x[k]!;
    x[k] = orig + h;
    const fp = f();
    x[k] = orig - h;
    const fm = f();
    x[k] = orig;
    const num = (fp - fm) / (2 * h);
    const a = analytic[k]!;
    const scale = Math.max(Math.abs(a), Math.abs(num));
    if (scale < zeroBelow) {
      maxAbs0 = Math.max(maxAbs0, Math.abs(a - num));
      continue;
    }
    checked++;
    const rel = Math.abs(a - num) / scale;
    if (rel > maxRel) {
      maxRel = rel;
      worst = k;
    }
  }
  return { maxRelError: maxRel, maxAbsErrorAtZero: maxAbs0, checked, worst };
}
