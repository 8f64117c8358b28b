/**
 * Exact summation for streaming indicators. Pure: no I/O, no allocation on the
 * hot paths.
 *
 * - `RollingSum` keeps a running sum as an unevaluated double-double (hi, lo)
 *   updated with error-free transformations (Knuth's TwoSum, Dekker's
 *   TwoProduct). As long as the exact running sum fits in the ~106-bit
 *   significand of a double-double (all bits of every value and of the sum lie
 *   within ~105 consecutive binary places, true for prices, volumes and their
 *   window sums) every operation is exact, so `value` is the correctly rounded
 *   (round-half-even) double of the exact sum: bit-identical to Python's
 *   `math.fsum(window)`, and a rolling window never drifts however long it runs.
 *   When an operation cannot be exact (huge dynamic range, overflow, NaN or
 *   infinity) `exact` turns false and stays false until `reset()`; the owner of
 *   the window then rebuilds the sum from its buffer (see `fsum`).
 * - `fsum(values)` is a port of CPython's `math.fsum` (Shewchuk's algorithm with
 *   non-overlapping partials plus CPython's final half-way correction): the
 *   correctly rounded sum of any finite doubles, in any order.
 */

/** 2^27 + 1: Veltkamp/Dekker splitter for exact products of doubles. */
const SPLITTER = 134217729;

/**
 * A running sum that supports exact add and remove. Intended for rolling
 * windows: `add` the incoming value, `remove` the outgoing one.
 *
 * Invariant (while `exact`): hi + lo equals the exact sum of everything added
 * minus everything removed, hi = fl(hi + lo) and |lo| <= ulp(hi) / 2.
 */
export class RollingSum {
  private h = 0;
  private l = 0;
  private ok = true;

  /** Adds x. O(1), allocation-free. */
  add(x: number): void {
    // (s, e) = TwoSum(h, x): s + e = h + x exactly.
    const h0 = this.h;
    const s = h0 + x;
    const bp = s - h0;
    const e = h0 - (s - bp) + (x - bp);
    // t = l + e: the only step that can round; err is its exact rounding error.
    const l0 = this.l;
    const t = l0 + e;
    const tp = t - l0;
    const err = l0 - (t - tp) + (e - tp);
    // Renormalise with a full TwoSum: hi = fl(s + t), lo = (s + t) - hi exactly.
    const h = s + t;
    const hp = h - s;
    const l = s - (h - hp) + (t - hp);
    this.h = h;
    this.l = l;
    // err is NaN when anything is non-finite; l is NaN when hi overflowed.
    if (err !== 0 || l !== l) this.ok = false;
  }

  /**
   * Adds x and removes y in one step (a rolling window's slide): the same
   * result as add(x) then remove(y), with a loop-carried dependency about half
   * as long. The exact difference (d, de) = TwoSum(x, -y) does not depend on
   * the accumulator; it is then added as a double-double.
   */
  replace(x: number, y: number): void {
    // (d, de) = TwoSum(x, -y): independent of the accumulator.
    const d = x - y;
    const dp = d - x;
    const de = x - (d - dp) - (y + dp);
    // (s, e) = TwoSum(h, d).
    const h0 = this.h;
    const s = h0 + d;
    const bp = s - h0;
    const e = h0 - (s - bp) + (d - bp);
    // t = (l + de) + e: the only steps that can round. An addition a + b = c
    // was exact iff c - a == b and c - b == a (whichever of a, b is larger in
    // magnitude, subtracting it from c is exact, so a rounding shows).
    const l0 = this.l;
    const u = l0 + de;
    const t = u + e;
    // Renormalise with a full TwoSum.
    const h = s + t;
    const hp = h - s;
    const l = s - (h - hp) + (t - hp);
    this.h = h;
    this.l = l;
    if (u - l0 !== de || u - de !== l0 || t - u !== e || t - e !== u || l !== l) this.ok = false;
  }

  /** Removes x (adds -x). O(1), allocation-free. */
  remove(x: number): void {
    this.add(-x);
  }

  /** Adds the exact product a * b (Dekker's TwoProduct, then two exact adds). */
  addProduct(a: number, b: number): void {
    const p = a * b;
    let t = SPLITTER * a;
    const ah = t - (t - a);
    const al = a - ah;
    t = SPLITTER * b;
    const bh = t - (t - b);
    const bl = b - bh;
    const err = ah * bh - p + ah * bl + al * bh + al * bl;
    this.add(p);
    this.add(err);
  }

  /** Adds the exact current sum of another accumulator (both of its parts). */
  addSum(other: RollingSum, sign: 1 | -1 = 1): void {
    this.add(sign * other.h);
    this.add(sign * other.l);
  }

  /** The correctly rounded double of the sum (while `exact`). */
  get value(): number {
    return this.h;
  }
  /** Leading part of the double-double. */
  get hi(): number {
    return this.h;
  }
  /** Trailing part of the double-double: the exact remainder sum - hi. */
  get lo(): number {
    return this.l;
  }
  /** True while every operation since the last reset() was error-free. */
  get exact(): boolean {
    return this.ok;
  }

  reset(): void {
    this.h = 0;
    this.l = 0;
    this.ok = true;
  }
}

/** Scratch for fsum's partials; grows only in adversarial inputs. */
let partials = new Float64Array(64);

/**
 * Correctly rounded sum of values[start..end), as CPython's `math.fsum`.
 * Where CPython raises (inf + -inf: ValueError; overflow of finite values:
 * OverflowError) this returns NaN or the infinity. No allocation unless the
 * partials scratch has to grow (more than 64 non-overlapping partials).
 */
export function fsum(values: ArrayLike<number>, start = 0, end = values.length): number {
  let p = partials;
  let n = 0;
  let special = 0;
  let infSum = 0;
  let overflow = 0;
  for (let k = start; k < end; k++) {
    let x = values[k]!;
    const xsave = x;
    let i = 0;
    for (let j = 0; j < n; j++) {
      let y = p[j]!;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const yr = hi - x;
      const lo = y - yr;
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    n = i;
    if (x !== 0) {
      if (!Number.isFinite(x)) {
        // A non-finite partial is either a non-finite input or an overflow.
        if (Number.isFinite(xsave)) overflow = x;
        else {
          if (!Number.isNaN(xsave)) infSum += xsave;
          special += xsave;
        }
        n = 0;
      } else {
        if (n === p.length) {
          const grown = new Float64Array(p.length * 2);
          grown.set(p);
          partials = p = grown;
        }
        p[n++] = x;
      }
    }
  }
  if (special !== 0) return Number.isNaN(infSum) ? NaN : special;
  if (overflow !== 0) return overflow;

  // Sum the partials from the top, stopping at the first inexact addition,
  // then apply CPython's correction for a half-way case.
  let hi = 0;
  if (n > 0) {
    hi = p[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n]!;
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    if (n > 0) {
      const below = p[n - 1]!;
      if ((lo < 0 && below < 0) || (lo > 0 && below > 0)) {
        const y = lo * 2;
        const x = hi + y;
        const yr = x - hi;
        if (y === yr) hi = x;
      }
    }
  }
  return hi;
}
