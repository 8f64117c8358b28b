/**
 * The standard normal distribution, written out so the optimiser's statistics
 * have no dependency. CDF: Hart (1968) as given by West (2005), "Better
 * approximations to cumulative normal functions", for |x| < 2, and Laplace's
 * continued fraction in the tails; relative error about 1e-15 everywhere.
 * Inverse CDF: Acklam (2003) plus one Halley step against that CDF, relative
 * error about 1e-15 (checked against mpmath in normal.test.ts). Pure.
 */

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Φ(x) = P(Z <= x) for Z ~ N(0, 1). */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  let c: number; // the tail Φ(-a)
  if (a > 38.5) c = 0;
  else if (a >= 2) c = normTail(a);
  else {
    const e = Math.exp((-a * a) / 2);
    let b = 3.52624965998911e-2 * a + 0.700383064443688;
    b = b * a + 6.37396220353165;
    b = b * a + 33.912866078383;
    b = b * a + 112.079291497871;
    b = b * a + 221.213596169931;
    b = b * a + 220.206867912376;
    c = e * b;
    b = 8.83883476483184e-2 * a + 1.75566716318264;
    b = b * a + 16.064177579207;
    b = b * a + 86.7807322029461;
    b = b * a + 296.564248779674;
    b = b * a + 637.333633378831;
    b = b * a + 793.826512519948;
    b = b * a + 440.413735824752;
    c /= b;
  }
  return x > 0 ? 1 - c : c;
}

/**
 * Φ(-a) for a >= 2 by Laplace's continued fraction
 * φ(a) / (a + 1/(a + 2/(a + 3/(a + ...)))), evaluated backwards from 100
 * terms: relative error below 1e-15 from a = 2 on (West's rational form is
 * accurate to ~1e-15 absolute only: 1.5e-14 relative at 3, 5e-10 at 6).
 */
function normTail(a: number): number {
  let t = 0;
  for (let k = 100; k > 0; k--) t = k / (a + t);
  return normPdf(a) / (a + t);
}

/** Standard normal density φ(x). */
export function normPdf(x: number): number {
  return Math.exp((-x * x) / 2) / SQRT_2PI;
}

const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239] as const;
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1] as const;
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] as const;
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
const P_LOW = 0.02425;

/** Φ⁻¹(p): the z with Φ(z) = p; -Infinity at 0, +Infinity at 1, NaN outside [0, 1]. */
export function normInv(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  let x: number;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  } else if (p <= 1 - P_LOW) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    x = -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  // One Halley step against the accurate CDF: e = Φ(x) - p. In the upper tail
  // it is computed as (1 - p) - Φ(-x) (1 - p is exact for p >= 0.5), which
  // avoids 1 - Φ(-x) rounding away the tail.
  const e = x > 0 ? 1 - p - normCdf(-x) : normCdf(x) - p;
  const u = e * SQRT_2PI * Math.exp((x * x) / 2);
  x = x - u / (1 + (x * u) / 2);
  return x;
}
