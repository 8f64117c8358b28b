/**
 * Pure, look-ahead-free technical indicators for the markets chart.
 *
 * Conventions shared by every function here:
 * - The output has the same length as the input and is a Float64Array.
 * - The value at index i depends only on inputs at indices <= i (no look-ahead), so a chart
 *   never shows an indicator value that could not have been known when bar i closed.
 * - NaN means "no value": the warm-up period, or a window that contains a non-finite input.
 *   Callers must not plot NaN.
 * - Numerically careful: running sums are compensated (Neumaier) and periodically recomputed,
 *   so long series do not drift, and a window of identical values yields that value exactly.
 */

type Num = ArrayLike<number>;

/** Recompute running window sums from scratch this often (in bars) so rounding cannot accumulate. */
const RECOMPUTE_EVERY = 1024;

function assertPeriod(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name}: period must be an integer >= 1, got ${n}`);
}

function nanArray(len: number): Float64Array {
  return new Float64Array(len).fill(Number.NaN);
}

/** Compensated (Neumaier) summation: the result is as if computed in about twice the precision. */
class CompensatedSum {
  private sum = 0;
  private comp = 0;

  add(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) >= Math.abs(x)) this.comp += this.sum - t + x;
    else this.comp += x - t + this.sum;
    this.sum = t;
  }

  reset(): void {
    this.sum = 0;
    this.comp = 0;
  }

  value(): number {
    return this.sum + this.comp;
  }
}

/**
 * Simple moving average over the last n values. NaN for the first n-1 values and for any
 * window containing a non-finite value.
 */
export function sma(values: Num, n: number): Float64Array {
  assertPeriod(n, "sma");
  const len = values.length;
  const out = nanArray(len);
  const sum = new CompensatedSum();
  let bad = 0; // non-finite values inside the current window
  let run = 0; // length of the run of identical values ending at i
  for (let i = 0; i < len; i++) {
    const x = values[i] as number;
    if (Number.isFinite(x)) sum.add(x);
    else bad++;
    run = i > 0 && x === values[i - 1] ? run + 1 : 1;
    if (i >= n) {
      const old = values[i - n] as number;
      if (Number.isFinite(old)) sum.add(-old);
      else bad--;
    }
    if (i < n - 1) continue;
    if ((i + 1) % RECOMPUTE_EVERY === 0) {
      // Periodic recomputation over the window: the running sum restarts with zero error.
      sum.reset();
      for (let j = i - n + 1; j <= i; j++) {
        const y = values[j] as number;
        if (Number.isFinite(y)) sum.add(y);
      }
    }
    if (bad > 0) continue;
    // A window of n identical values averages to exactly that value (sum/n may round).
    out[i] = run >= n ? x : sum.value() / n;
  }
  return out;
}

/**
 * Exponential moving average with alpha = 2/(n+1), seeded with the SMA of the first n values
 * (the first value appears at index n-1). If the seed window contains a non-finite value the
 * seed moves to the first complete finite window. After seeding, a non-finite input yields NaN
 * at that index and leaves the average unchanged.
 */
export function ema(values: Num, n: number): Float64Array {
  assertPeriod(n, "ema");
  const len = values.length;
  const out = nanArray(len);
  const seed = sma(values, n);
  const alpha = 2 / (n + 1);
  let prev = Number.NaN;
  for (let i = n - 1; i < len; i++) {
    if (Number.isNaN(prev)) {
      const s = seed[i] as number;
      if (Number.isFinite(s)) out[i] = prev = s;
      continue;
    }
    const x = values[i] as number;
    if (!Number.isFinite(x)) continue;
    // prev + alpha*(x - prev) keeps a constant series exactly constant (x - prev == 0).
    prev = prev + alpha * (x - prev);
    out[i] = prev;
  }
  return out;
}

export interface BollingerBands {
  mid: Float64Array;
  upper: Float64Array;
  lower: Float64Array;
}

/**
 * Bollinger bands: mid = SMA(n), upper/lower = mid +/- k * population standard deviation of the
 * same n values. The deviation uses the corrected two-pass formula over each window (O(n) per
 * bar), which avoids the cancellation of the sum-of-squares shortcut; a constant window has
 * exactly zero width.
 */
export function bollinger(values: Num, n: number, k: number): BollingerBands {
  assertPeriod(n, "bollinger");
  if (!Number.isFinite(k)) throw new RangeError(`bollinger: k must be finite, got ${k}`);
  const len = values.length;
  const mid = sma(values, n);
  const upper = nanArray(len);
  const lower = nanArray(len);
  for (let i = n - 1; i < len; i++) {
    const m = mid[i] as number;
    if (!Number.isFinite(m)) continue;
    let sq = 0;
    let dev = 0;
    for (let j = i - n + 1; j <= i; j++) {
      const d = (values[j] as number) - m;
      sq += d * d;
      dev += d;
    }
    const variance = Math.max(0, (sq - (dev * dev) / n) / n);
    const w = k * Math.sqrt(variance);
    upper[i] = m + w;
    lower[i] = m - w;
  }
  return { mid, upper, lower };
}

/**
 * Relative strength index with Wilder's smoothing. The first value is at index n: the average
 * gain and loss are the simple means of the first n close-to-close changes, then
 * avg = (avg * (n-1) + current) / n. RSI = 100 * avgGain / (avgGain + avgLoss).
 * When there are no losses in the average the RSI is 100; that includes a completely flat
 * series (no gains either), as specified for this chart.
 * A non-finite close yields NaN at that index and is skipped (the next change is measured
 * from the last finite close).
 */
export function rsi(closes: Num, n: number): Float64Array {
  assertPeriod(n, "rsi");
  const len = closes.length;
  const out = nanArray(len);
  let last = Number.NaN; // last finite close
  let count = 0; // finite changes seen
  let gain = 0;
  let loss = 0;
  for (let i = 0; i < len; i++) {
    const c = closes[i] as number;
    if (!Number.isFinite(c)) continue;
    if (Number.isNaN(last)) {
      last = c;
      continue;
    }
    const ch = c - last;
    last = c;
    const g = ch > 0 ? ch : 0;
    const l = ch < 0 ? -ch : 0;
    count++;
    if (count <= n) {
      gain += g;
      loss += l;
      if (count < n) continue;
      gain /= n;
      loss /= n;
    } else {
      gain = (gain * (n - 1) + g) / n;
      loss = (loss * (n - 1) + l) / n;
    }
    out[i] = loss === 0 ? 100 : (100 * gain) / (gain + loss);
  }
  return out;
}

const DAY_MS = 86_400_000;

/**
 * Volume-weighted average price: cumulative typical price x volume / cumulative volume, with
 * typical price = (h + l + c) / 3. With resetEachUtcDay the accumulation restarts at the first
 * bar of each UTC calendar day (by bar start time t, epoch ms); otherwise it is anchored at the
 * first bar given. NaN while the accumulated volume is zero, and for bars with a non-finite price.
 * Bars with a non-finite or negative volume contribute nothing. The result is clamped to the
 * range of the contributing typical prices, so a constant price gives exactly that price.
 */
export function vwap(t: Num, h: Num, l: Num, c: Num, v: Num, resetEachUtcDay: boolean): Float64Array {
  const len = t.length;
  if (h.length !== len || l.length !== len || c.length !== len || v.length !== len) {
    throw new RangeError("vwap: t, h, l, c and v must have the same length");
  }
  const out = nanArray(len);
  const pv = new CompensatedSum();
  const vol = new CompensatedSum();
  let day = Number.NaN;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < len; i++) {
    if (resetEachUtcDay) {
      const d = Math.floor((t[i] as number) / DAY_MS);
      if (d !== day) {
        day = d;
        pv.reset();
        vol.reset();
        lo = Infinity;
        hi = -Infinity;
      }
    }
    const hh = h[i] as number;
    const ll = l[i] as number;
    const cc = c[i] as number;
    if (!Number.isFinite(hh) || !Number.isFinite(ll) || !Number.isFinite(cc)) continue;
    // Same as (h + l + c) / 3, but exact when h == l == c.
    const tp = ll + (hh - ll + (cc - ll)) / 3;
    const vv = v[i] as number;
    if (Number.isFinite(vv) && vv > 0) {
      pv.add(tp * vv);
      vol.add(vv);
      if (tp < lo) lo = tp;
      if (tp > hi) hi = tp;
    }
    const total = vol.value();
    if (total > 0) out[i] = Math.min(hi, Math.max(lo, pv.value() / total));
  }
  return out;
}
